"""The stock report written to the seller's Google Sheet at a constant cost per sync.

Cost: one `spreadsheets.get` (fields=properties.locale,sheets.properties) to learn the tabs, their
sheetIds and the spreadsheet's locale, then one `spreadsheets.batchUpdate` that, for each tab,
adds it when missing (with a sheetId we choose, so the rest of the same batch can address it),
resizes the grid and freezes the header, clears old values and formats, sets bold titles, number
formats and widths, and only then writes the values: one `pasteData` per tab (PASTE_VALUES, so the
number formats just set stay), plus, in a sheet of unknown locale, `updateCells` for fractions.
The number of requests does not grow with the number of products.

Pasted data is parsed like typed input, so every cell is written as text Sheets cannot misread:
- Text gets a leading apostrophe, Sheets' quote prefix, which is not stored: "0012", "44-46",
  "17.5", "=SUM(A1)" and "TRUE" stay that text. No field then starts with a double quote, so the
  paste's CSV-style quoting never applies. Tabs and line breaks inside text become spaces.
- Whole numbers are bare digits, read alike in every locale.
- Fractions (days of cover) are the catch: the decimal separator of typed input follows the
  sheet's locale, and "2.5" in a ru_RU sheet is not 2.5. Where we are sure of the separator
  (`DECIMAL_SEPARATORS`: ru_RU ",", en_US and en_GB ".") fractions are pasted with it. In any
  other locale they are left blank in the paste and written after it by `updateCells` as JSON
  numbers, which no locale affects (one request per run of a column's fractions, ~45 bytes a
  cell instead of ~4). Writing every fraction that way would be locale-proof everywhere, but it
  takes a realistic large seller to 1.6-2.1 MB, so it is only the fallback. A seller switching
  the locale in the seconds between our read and write could get fractions as text until the
  next sync.
- The delimiter is the first of | ~ ^ ` that no text of the tab contains, else a tab (which
  costs 2 bytes of JSON where those cost 1); the summary is mostly empty cells between them.

Payload, measured on generated sellers with 1,000 products over 60 WB warehouses and 5 of their
own (ru_RU sheet / sheet of unknown locale; the old per-cell `updateCells` in brackets):
3 stocked warehouses x 3 sizes (9,000 by-size rows) 1.14 MB / 1.64 MB [5.3 MB];
4 x 3 (12,000 rows) 1.44 MB / 2.08 MB [6.8 MB]; 8 x 3 (24,000 rows) 2.6 MB / 3.8 MB [12.7 MB].
Most of it is the by-size text itself (~75 bytes a row, warehouse names in 2-byte Cyrillic), so
well under 1 MB is out of reach for ~10,000 by-size rows without dropping columns.
Google recommends at most 2 MB per request (for speed; it is no limit) and refuses more than
10 MiB. Above 2 MB we still send one batchUpdate, accepting a slower request over extra writes.
Above `MAX_BATCH_BYTES` (9 MiB; ~3,500 products at 8 warehouses x 3 sizes) the value requests
are cut between rows into further batchUpdates of at most that size, the first also carrying the
resize, clear and formats, all sent in order (so a tab's pasted rows precede its fractions):
5,000 such products take 12.7 MB in 2 writes (18.5 MB, also 2, in a sheet of unknown locale).
Only a very large seller pays more than one write, and a failure part-way leaves the by-size rows
incomplete until the next sync rewrites the tabs.

gspread is synchronous: every HTTP call runs in a worker thread (`asyncio.to_thread`), never on
the event loop. 429 and 5xx are retried with exponential backoff (3 tries in all); 403 and 404
are the seller's to fix and are not retried. gspread and google-auth (~11 MB with requests) are
imported by the first exporter call, not with this module: an idle bot does not need them.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Final, TypeVar

import orjson

from core.exporters.layout import NUMBER_PATTERNS, Cell, Table, build_tables
from core.stock_report import StockReport

if TYPE_CHECKING:
    from google.oauth2.service_account import Credentials
    from gspread.exceptions import APIError
    from gspread.http_client import HTTPClient

DEFAULT_API_URL: Final = "https://sheets.googleapis.com"
SCOPES: Final = ("https://www.googleapis.com/auth/spreadsheets",)
MAX_BATCH_BYTES: Final = 9 * 1024 * 1024
TRIES: Final = 3
TIMEOUT: Final = (10.0, 120.0)  # connect, read (seconds)

_URL_ID = re.compile(r"docs\.google\.com/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]+)")
_BARE_ID = re.compile(r"[A-Za-z0-9_-]{25,128}")
_RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
_GRID_FIELDS: Final = ",".join(
    f"gridProperties.{name}"
    for name in ("rowCount", "columnCount", "frozenRowCount", "frozenColumnCount")
)
_META_FIELDS: Final = "properties.locale,sheets.properties"
_BODY_OVERHEAD: Final = 20
_REQUEST_OVERHEAD: Final = 200

T = TypeVar("T")


class SheetsError(Exception):
    """Writing to Google Sheets failed; the message is safe to log."""


class SheetNotFound(SheetsError):
    """404: no spreadsheet with this id."""


class SheetNotShared(SheetsError):
    """403: the spreadsheet is not shared with the service account as an editor."""


class SheetsUnavailable(SheetsError):
    """429 or 5xx from Google (or no connection) after every retry."""


class SheetsNotConfigured(SheetsError):
    """No usable service account, or the Sheets API is off for its project."""


class SheetsRejected(SheetsError):
    """Google refused the request itself (400 and the like)."""


class _Retryable(Exception):
    """A failure worth another try."""


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write cost: API requests sent (retries included) and batchUpdate bytes."""

    requests: int
    payload_bytes: int


def parse_spreadsheet_id(text: str) -> str | None:
    """The spreadsheet id from a docs.google.com URL or a bare id; None for anything else."""
    text = text.strip()
    match = _URL_ID.search(text)
    candidate = match.group(1) if match else text
    return candidate if _BARE_ID.fullmatch(candidate) else None


def service_account_email(path: str) -> str:
    """The email a seller shares the sheet with, read from the service-account file."""
    try:
        with open(path, encoding="utf-8") as file:
            info = json.load(file)
        email = info["client_email"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SheetsNotConfigured(f"unusable service account file: {error}") from error
    if not isinstance(email, str) or not email:
        raise SheetsNotConfigured("the service account file has no client_email")
    return email


@cache
def _rebased_client_class() -> type[HTTPClient]:
    """gspread's HTTP client with the Sheets base URL replaced per instance (imports gspread)."""
    from gspread.http_client import HTTPClient

    class _RebasedHTTPClient(HTTPClient):
        def __init__(self, auth: Credentials, *, api_url: str) -> None:
            super().__init__(auth)
            self.api_url = api_url.rstrip("/")

        def request(
            self,
            method: str,
            endpoint: str,
            params: Any = None,
            data: bytes | None = None,
            json: Mapping[str, Any] | None = None,
            files: Any = None,
            headers: MutableMapping[str, str] | None = None,
        ) -> Any:
            if endpoint.startswith(DEFAULT_API_URL):
                endpoint = self.api_url + endpoint[len(DEFAULT_API_URL) :]
            return super().request(method, endpoint, params, data, json, files, headers)

    return _RebasedHTTPClient


# The decimal separator Sheets expects in typed input, for the locales we are sure of. A sheet
# in any other locale gets its decimals through `updateCells` numberValue instead.
DECIMAL_SEPARATORS: Final[Mapping[str, str]] = {"ru_RU": ",", "en_US": ".", "en_GB": "."}
# Tried in order: the first that no text of the tab contains is its delimiter (1 JSON byte
# where a tab costs 2); text holding them all falls back to a tab.
_DELIMITERS: Final = ("|", "~", "^", "`")
_FLATTEN: Final = str.maketrans({"\t": " ", "\n": " ", "\r": " "})
_CELLS_FIELDS: Final = b',"fields":"userEnteredValue","rows":['
_NUMBER_HEAD: Final = b'{"values":[{"userEnteredValue":{"numberValue":'
_MAX_GAP: Final = 32  # empty rows a decimal run may bridge (3 bytes each) before a new request


def _delimiter(table: Table) -> str:
    texts = [value for row in table.rows for value in row if isinstance(value, str)]
    for candidate in _DELIMITERS:
        if not any(candidate in text for text in texts):
            return candidate
    return "\t"


def _paste_field(value: Cell, decimal_separator: str | None) -> str:
    """A cell as typed text: quoted text, a plain number, or nothing.

    A fraction is typed with the sheet's decimal separator, or left out (None: it is written by
    `updateCells`). Whole numbers, floats included, need no separator.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value.translate(_FLATTEN)
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    if decimal_separator is None:
        return ""
    return format(Decimal(repr(value)), "f").replace(".", decimal_separator)


def _paste_line(row: list[Cell], delimiter: str, decimal_separator: str | None) -> bytes:
    """The row as one delimited line, JSON-escaped (without quotes), trailing blanks cut."""
    fields = [_paste_field(value, decimal_separator) for value in row]
    while fields and not fields[-1]:
        fields.pop()
    return orjson.dumps(delimiter.join(fields))[1:-1]


def _is_fraction(value: Cell) -> bool:
    return isinstance(value, float) and not value.is_integer()


def _decimal_row(value: Cell) -> bytes:
    if _is_fraction(value):
        return _NUMBER_HEAD + orjson.dumps(value) + b"}}]}"
    return b"{}"  # writes nothing at this row (the request has a start, not a range)


@dataclass(frozen=True, slots=True)
class _Values:
    """Values for consecutive rows of a tab, cut between rows into requests as the batch allows.

    With a `delimiter`: one pasteData line per row from column 0; without: one `updateCells`
    RowData per row, starting at `column`.
    """

    delimiter: str | None
    sheet_id: int
    row: int
    column: int
    units: list[bytes]

    @property
    def separator(self) -> int:
        return 2 if self.delimiter is not None else 1  # an escaped "\n" or a ","

    def request(self, start: int, end: int) -> bytes:
        at = orjson.dumps(
            {"sheetId": self.sheet_id, "rowIndex": self.row + start, "columnIndex": self.column}
        )
        if self.delimiter is not None:
            data = b"\\n".join(self.units[start:end])
            tail = orjson.dumps({"type": "PASTE_VALUES", "delimiter": self.delimiter})
            return (
                b'{"pasteData":{"coordinate":' + at + b',"data":"' + data + b'",' + tail[1:] + b"}"
            )
        rows = b",".join(self.units[start:end])
        return b'{"updateCells":{"start":' + at + _CELLS_FIELDS + rows + b"]}}"


def _value_parts(table: Table, sheet_id: int, decimal_separator: str | None) -> list[_Values]:
    """The tab's pasteData lines, then (separator unknown) an `updateCells` per decimal run."""
    delimiter = _delimiter(table)
    lines = [_paste_line(row, delimiter, decimal_separator) for row in table.rows]
    while lines and not lines[-1]:
        lines.pop()
    parts = [_Values(delimiter, sheet_id, 0, 0, lines)] if lines else []
    if decimal_separator is not None:
        return parts
    decimal_rows: dict[int, list[int]] = {}
    for row_index, row in enumerate(table.rows):
        for column, value in enumerate(row):
            if _is_fraction(value):
                decimal_rows.setdefault(column, []).append(row_index)
    for column in sorted(decimal_rows):
        for first, last in _runs_of(decimal_rows[column]):
            units = [_decimal_row(_at(table.rows[r], column)) for r in range(first, last + 1)]
            parts.append(_Values(None, sheet_id, first, column, units))
    return parts


def _runs_of(indexes: list[int]) -> Iterator[tuple[int, int]]:
    """(first, last) of each run of ascending `indexes` with gaps of at most `_MAX_GAP`."""
    first = last = indexes[0]
    for index in indexes[1:]:
        if index - last - 1 > _MAX_GAP:
            yield first, last
            first = index
        last = index
    yield first, last


def _at(row: list[Cell], column: int) -> Cell:
    return row[column] if column < len(row) else None


def _runs(values: list[Any]) -> Iterator[tuple[int, int, Any]]:
    """(start, end, value) for each run of equal neighbours."""
    start = 0
    for index in range(1, len(values) + 1):
        if index == len(values) or values[index] != values[start]:
            yield start, index, values[start]
            start = index


def _pixels(chars: int) -> int:
    return chars * 7 + 12


def _structure_requests(table: Table, sheet_id: int, new: bool, index: int) -> list[Any]:
    """Add or resize the tab, freeze, clear it, then bold titles, number formats, widths."""
    row_count = max(len(table.rows), table.frozen_rows + 1)
    column_count = max(table.width, table.frozen_columns + 1)
    grid = {
        "rowCount": row_count,
        "columnCount": column_count,
        "frozenRowCount": table.frozen_rows,
        "frozenColumnCount": table.frozen_columns,
    }
    requests: list[Any] = []
    if new:
        properties = {"sheetId": sheet_id, "title": table.title, "index": index}
        requests.append({"addSheet": {"properties": {**properties, "gridProperties": grid}}})
    else:
        requests.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": grid},
                    "fields": _GRID_FIELDS,
                }
            }
        )
        requests.append(
            {
                "updateCells": {
                    "range": {"sheetId": sheet_id},
                    "fields": "userEnteredValue,userEnteredFormat",
                }
            }
        )
    for start, end, bold in _runs([i in table.bold_rows for i in range(table.frozen_rows)]):
        if bold:
            requests.append(
                {
                    "repeatCell": {
                        "range": {
                            "sheetId": sheet_id,
                            "startRowIndex": start,
                            "endRowIndex": end,
                            "startColumnIndex": 0,
                            "endColumnIndex": column_count,
                        },
                        "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                        "fields": "userEnteredFormat.textFormat.bold",
                    }
                }
            )
    if len(table.rows) > table.frozen_rows:
        for start, end, kind in _runs(list(table.column_formats)):
            pattern = NUMBER_PATTERNS.get(kind)
            if pattern is None:
                continue
            requests.append(
                {
                    "repeatCell": {
                        "range": {
                            "sheetId": sheet_id,
                            "startRowIndex": table.frozen_rows,
                            "endRowIndex": len(table.rows),
                            "startColumnIndex": start,
                            "endColumnIndex": end,
                        },
                        "cell": {
                            "userEnteredFormat": {
                                "numberFormat": {"type": "NUMBER", "pattern": pattern}
                            }
                        },
                        "fields": "userEnteredFormat.numberFormat",
                    }
                }
            )
    for start, end, chars in _runs(list(table.column_widths)):
        requests.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": start,
                        "endIndex": end,
                    },
                    "properties": {"pixelSize": _pixels(chars)},
                    "fields": "pixelSize",
                }
            }
        )
    return requests


def plan_batches(
    tables: list[Table],
    existing: Mapping[str, int],
    *,
    locale: str | None = None,
    max_bytes: int = MAX_BATCH_BYTES,
) -> list[bytes]:
    """The batchUpdate bodies (JSON) that make the tabs show `tables`: one unless it is huge.

    `existing` maps the spreadsheet's tab titles to their sheetIds; `locale` is the
    spreadsheet's (properties.locale), which decides how decimals are written. Each body is at most
    `max_bytes` unless a single row is larger by itself.
    """
    decimal_separator = DECIMAL_SEPARATORS.get(locale) if locale else None
    next_id = max(existing.values(), default=0) + 1
    structure: list[bytes] = []
    parts: list[_Values] = []
    for index, table in enumerate(tables):
        sheet_id = existing.get(table.title)
        if sheet_id is None:
            sheet_id, next_id = next_id, next_id + 1
        requests = _structure_requests(table, sheet_id, table.title not in existing, index)
        structure += [orjson.dumps(request) for request in requests]
        parts += _value_parts(table, sheet_id, decimal_separator)

    batches: list[list[bytes]] = [structure]
    size = sum(len(item) + 1 for item in structure) + _BODY_OVERHEAD
    for part in parts:
        start = 0
        while start < len(part.units):
            room = max_bytes - size - _REQUEST_OVERHEAD
            end, taken = start, 0
            while end < len(part.units) and taken + len(part.units[end]) + part.separator <= room:
                taken += len(part.units[end]) + part.separator
                end += 1
            if end == start:
                if batches[-1]:
                    batches.append([])
                    size = _BODY_OVERHEAD
                    continue
                end = start + 1  # one row above the limit: it goes alone, Google decides
            request = part.request(start, end)
            batches[-1].append(request)
            size += len(request) + 1
            start = end
    return [b'{"requests":[' + b",".join(batch) + b"]}" for batch in batches if batch]


def _map_api_error(error: APIError) -> Exception:
    status = error.response.status_code
    details = error.error if isinstance(error.error, Mapping) else {}
    message = str(details.get("message", ""))
    if status in _RETRYABLE_STATUSES:
        return _Retryable(f"Google Sheets answered {status}: {message}")
    if status == 404:
        return SheetNotFound(message or "spreadsheet not found")
    if status == 403:
        # The Sheets API switched off for our project is our problem, not the seller's sharing.
        text = json.dumps(details).lower()
        if "service_disabled" in text or "has not been used" in text or "disabled" in message:
            return SheetsNotConfigured(message)
        return SheetNotShared(message or "the caller does not have permission")
    if status == 401:
        return SheetsNotConfigured(f"credentials rejected: {message}")
    return SheetsRejected(f"Google Sheets answered {status}: {message}")


class SheetsExporter:
    """Reads and writes sellers' spreadsheets as our service account."""

    def __init__(
        self,
        service_account_file: str,
        api_url: str | None = None,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        base_delay: float = 2.0,
    ) -> None:
        self._service_account_file = service_account_file
        self._api_url = api_url or DEFAULT_API_URL
        self._sleep = sleep
        self._base_delay = base_delay
        self._credentials: Credentials | None = None
        self._lock = threading.Lock()

    def _new_client(self) -> HTTPClient:
        """A client with its own HTTP session; the credentials (and token) are shared."""
        from google.oauth2.service_account import Credentials

        with self._lock:
            if self._credentials is None:
                if not self._service_account_file:
                    raise SheetsNotConfigured("GOOGLE_SERVICE_ACCOUNT_FILE is not set")
                try:
                    self._credentials = Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                        self._service_account_file, scopes=list(SCOPES)
                    )
                except (OSError, ValueError, KeyError) as error:
                    raise SheetsNotConfigured(f"unusable service account file: {error}") from error
            credentials = self._credentials
        client = _rebased_client_class()(credentials, api_url=self._api_url)  # type: ignore[call-arg]
        client.set_timeout(TIMEOUT)
        return client

    @staticmethod
    def _run(call: Callable[[], T]) -> T:
        """One HTTP call in the worker thread, its failure as one of our errors."""
        from google.auth.exceptions import GoogleAuthError, RefreshError
        from gspread.exceptions import APIError

        try:
            return call()
        except APIError as error:
            raise _map_api_error(error) from error
        except RefreshError as error:
            if error.retryable:
                raise _Retryable(f"token endpoint: {error}") from error
            raise SheetsNotConfigured(f"service account refused: {error}") from error
        except GoogleAuthError as error:
            raise _Retryable(f"token endpoint unreachable: {error}") from error
        except OSError as error:  # requests' connection errors and timeouts are OSErrors
            raise _Retryable(f"Google Sheets unreachable: {error}") from error

    async def _call(self, call: Callable[[], T], sent: list[int]) -> T:
        """Run `call` off the event loop, retrying 429/5xx with exponential backoff."""
        for attempt in range(TRIES):
            sent[0] += 1
            try:
                return await asyncio.to_thread(self._run, call)
            except _Retryable as error:
                if attempt + 1 == TRIES:
                    raise SheetsUnavailable(str(error)) from error
                await self._sleep(self._base_delay * 2**attempt)
        raise AssertionError("unreachable")

    async def check_access(self, spreadsheet_id: str) -> str:
        """The spreadsheet's title, if our service account can open it."""
        client = await asyncio.to_thread(self._new_client)
        try:
            get = partial(client.spreadsheets_get, spreadsheet_id, {"fields": "properties.title"})
            meta = await self._call(get, [0])
        finally:
            client.session.close()
        return str(meta.get("properties", {}).get("title", ""))

    async def write_report(
        self,
        spreadsheet_id: str,
        report: StockReport,
        *,
        lang: str = "ru",
        tz: str = "Europe/Moscow",
    ) -> WriteResult:
        """Rewrite the "Сводка" and "По размерам" tabs: one read, one batchUpdate."""
        client = await asyncio.to_thread(self._new_client)
        sent = [0]
        try:
            get = partial(client.spreadsheets_get, spreadsheet_id, {"fields": _META_FIELDS})
            meta = await self._call(get, sent)
            locale = meta.get("properties", {}).get("locale")
            existing = {
                sheet["properties"]["title"]: int(sheet["properties"]["sheetId"])
                for sheet in meta.get("sheets", [])
            }
            bodies = await asyncio.to_thread(_plan, report, existing, locale, lang, tz)
            from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL

            url = SPREADSHEET_BATCH_UPDATE_URL % spreadsheet_id
            headers = {"Content-Type": "application/json"}
            for body in bodies:
                post = partial(client.request, "post", url, data=body, headers=headers)
                await self._call(post, sent)
        finally:
            client.session.close()
        return WriteResult(requests=sent[0], payload_bytes=sum(len(body) for body in bodies))


def _plan(
    report: StockReport, existing: Mapping[str, int], locale: Any, lang: str, tz: str
) -> list[bytes]:
    tables = build_tables(report, lang=lang, tz=tz)
    return plan_batches(
        tables,
        existing,
        locale=locale if isinstance(locale, str) else None,
        max_bytes=MAX_BATCH_BYTES,
    )
