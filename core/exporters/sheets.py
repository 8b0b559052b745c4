"""The stock report written to the seller's Google Sheet at a constant cost per sync.

Cost: one `spreadsheets.get` (fields=sheets.properties) to learn the tabs and their sheetIds,
then one `spreadsheets.batchUpdate` that, for each tab, adds it when missing (with a sheetId we
choose, so the rest of the same batch can address it), resizes the grid and freezes the header,
clears old values and formats, writes every cell, sets bold titles, number formats and widths.
The number of requests does not grow with the number of products.

Payload: values are sent as `updateCells` rows, the most compact form that keeps text as text
(`pasteData` would re-parse "44-46" as a date, "0012" as 12 and "17.5" by the sheet's locale).
That costs ~40 bytes per filled cell and 3 per empty one, so the size follows the layout, not
the product count alone: 1,000 products over 60 warehouses measure 1.4 MB when each product sits
at one warehouse in one size (the 180 warehouse columns of the summary are most of it), 2.0 MB at
two warehouses, 12.6 MB at eight warehouses x three sizes (24,000 by-size rows). Google
recommends at most 2 MB per request and refuses more than 10 MiB. Up to `MAX_BATCH_BYTES`
(9 MiB) we send one batchUpdate, accepting a slower request over extra writes; above it the value
rows are split over further batchUpdates of at most that size (the first also carries the
resize, clear and formats). So only a very large seller pays more than one write, and a failure
part-way leaves the by-size rows incomplete until the next sync rewrites the tabs.

gspread is synchronous: every HTTP call runs in a worker thread (`asyncio.to_thread`), never on
the event loop. 429 and 5xx are retried with exponential backoff (3 tries in all); 403 and 404
are the seller's to fix and are not retried.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, TypeVar

import orjson
from google.auth.exceptions import GoogleAuthError, RefreshError
from google.oauth2.service_account import Credentials
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL

from core.exporters.layout import NUMBER_PATTERNS, Cell, Table, build_tables
from core.stock_report import StockReport

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


class _RebasedHTTPClient(HTTPClient):
    """gspread's HTTP client with the Sheets base URL replaced for this instance only."""

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


def _cell_json(value: Cell) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"userEnteredValue": {"stringValue": value}}
    return {"userEnteredValue": {"numberValue": value}}


def _row_json(row: list[Cell]) -> dict[str, Any]:
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return {"values": [_cell_json(value) for value in row[:end]]} if end else {}


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


def _values_request(sheet_id: int, first_row: int, rows: list[bytes]) -> bytes:
    head = orjson.dumps({"start": {"sheetId": sheet_id, "rowIndex": first_row, "columnIndex": 0}})[
        :-1
    ]
    return (
        b'{"updateCells":'
        + head
        + b',"fields":"userEnteredValue","rows":['
        + (b",".join(rows))
        + b"]}}"
    )


def plan_batches(
    tables: list[Table], existing: Mapping[str, int], *, max_bytes: int = MAX_BATCH_BYTES
) -> list[bytes]:
    """The batchUpdate bodies (JSON) that make the tabs show `tables`: one unless it is huge.

    `existing` maps the spreadsheet's tab titles to their sheetIds.
    """
    next_id = max(existing.values(), default=0) + 1
    structure: list[bytes] = []
    pieces: list[tuple[int, list[bytes]]] = []
    for index, table in enumerate(tables):
        sheet_id = existing.get(table.title)
        if sheet_id is None:
            sheet_id, next_id = next_id, next_id + 1
        requests = _structure_requests(table, sheet_id, table.title not in existing, index)
        structure += [orjson.dumps(request) for request in requests]
        pieces.append((sheet_id, [orjson.dumps(_row_json(row)) for row in table.rows]))

    batches: list[list[bytes]] = [structure]
    size = sum(len(item) + 1 for item in structure) + _BODY_OVERHEAD
    for sheet_id, rows in pieces:
        start = 0
        while start < len(rows):
            room = max_bytes - size - _REQUEST_OVERHEAD
            end, taken = start, 0
            while end < len(rows) and taken + len(rows[end]) + 1 <= room:
                taken += len(rows[end]) + 1
                end += 1
            if end == start:
                if batches[-1]:
                    batches.append([])
                    size = _BODY_OVERHEAD
                    continue
                end = start + 1  # one row above the limit: it goes alone, Google decides
            request = _values_request(sheet_id, start, rows[start:end])
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

    def _new_client(self) -> _RebasedHTTPClient:
        """A client with its own HTTP session; the credentials (and token) are shared."""
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
        client = _RebasedHTTPClient(credentials, api_url=self._api_url)
        client.set_timeout(TIMEOUT)
        return client

    @staticmethod
    def _run(call: Callable[[], T]) -> T:
        """One HTTP call in the worker thread, its failure as one of our errors."""
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
            get = partial(client.spreadsheets_get, spreadsheet_id, {"fields": "sheets.properties"})
            meta = await self._call(get, sent)
            existing = {
                sheet["properties"]["title"]: int(sheet["properties"]["sheetId"])
                for sheet in meta.get("sheets", [])
            }
            bodies = await asyncio.to_thread(_plan, report, existing, lang, tz)
            url = SPREADSHEET_BATCH_UPDATE_URL % spreadsheet_id
            headers = {"Content-Type": "application/json"}
            for body in bodies:
                post = partial(client.request, "post", url, data=body, headers=headers)
                await self._call(post, sent)
        finally:
            client.session.close()
        return WriteResult(requests=sent[0], payload_bytes=sum(len(body) for body in bodies))


def _plan(report: StockReport, existing: Mapping[str, int], lang: str, tz: str) -> list[bytes]:
    return plan_batches(build_tables(report, lang=lang, tz=tz), existing, max_bytes=MAX_BATCH_BYTES)
