"""A local Google Sheets API v4 (plus the OAuth2 token endpoint) on loopback, for export tests.

Runs in the test's event loop; the exporter calls it from a worker thread (gspread is sync).
Also: a service-account file writer and a generated stock report of any size.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.stock_report import (
    DataPart,
    LowStockItem,
    ProductSummary,
    ReportTotals,
    StockReport,
    StockRow,
    WarehouseFigures,
    WarehouseKind,
)

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_FAULT_MESSAGES = {
    429: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per "
    "minute per user' of service 'sheets.googleapis.com'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}


class FakeApiError(Exception):
    """Ends a request with Google's error JSON."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class FakeTab:
    sheet_id: int
    title: str
    index: int
    row_count: int = 1000
    column_count: int = 26
    frozen_rows: int = 0
    frozen_columns: int = 0
    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    column_pixels: dict[int, int] = field(default_factory=dict)
    auto_resized_columns: set[int] = field(default_factory=set)

    def properties(self) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.column_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_columns:
            grid["frozenColumnCount"] = self.frozen_columns
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }


@dataclass
class FakeSpreadsheet:
    spreadsheet_id: str
    title: str
    shared: bool = True
    locale: str = "ru_RU"
    tabs: list[FakeTab] = field(default_factory=list)

    def tab(self, sheet_id: int) -> FakeTab:
        for tab in self.tabs:
            if tab.sheet_id == sheet_id:
                return tab
        raise FakeApiError(400, f"Invalid requests: No grid with id: {sheet_id}")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    kind: str  # "token", "read" or "write"
    body_bytes: int
    status: int


@functools.cache
def _expand_fields(mask: str) -> tuple[str, ...]:
    """A field mask ("a(b,c),d") as dotted paths (["a.b", "a.c", "d"])."""
    paths: list[str] = []
    for match in re.finditer(r"([\w.]+)(?:\(([^)]*)\))?", mask):
        prefix, inner = match.group(1), match.group(2)
        if inner is None:
            paths.append(prefix)
        else:
            paths.extend(f"{prefix}.{part.strip()}" for part in inner.split(",") if part.strip())
    return tuple(paths)


def _clone(value: Any) -> Any:
    """A deep copy of JSON data (a fast stand-in for copy.deepcopy)."""
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


def _get_path(source: dict[str, Any], path: str) -> Any:
    node: Any = source
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    node = target
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = _clone(value)


def _apply_mask(target: dict[str, Any], source: dict[str, Any], mask: str) -> dict[str, Any]:
    if mask.strip() == "*":
        return _clone(source)
    for path in _expand_fields(mask):
        _set_path(target, path, _get_path(source, path))
    return target


_NUMBER = re.compile(r"[+-]?\d+(?:[.,](\d+))?")
# Decimal separators of the locales the fake knows; in any other locale it takes every pasted
# fraction for text, so code that pastes fractions into a sheet of unknown locale is caught.
DECIMAL_SEPARATORS = {"ru_RU": ",", "en_US": ".", "en_GB": "."}
_MAX_BODY_BYTES = 10 * 1024 * 1024


def parse_pasted(text: str, locale: str) -> dict[str, Any] | None:
    """A pasted cell's userEnteredValue, parsed as Sheets parses typed input (for our purposes).

    "'" starts text (the apostrophe is not kept); "" is an empty cell; "=" starts a formula;
    TRUE/FALSE are booleans; digits are a number; digits with the locale's decimal separator
    are a number, with the other separator ("2.5" in ru_RU) text; anything else is text.
    """
    if text == "":
        return None
    if text.startswith("'"):
        return {"stringValue": text[1:]}
    if text.startswith("="):
        return {"formulaValue": text}
    if text.upper() in ("TRUE", "FALSE"):
        return {"boolValue": text.upper() == "TRUE"}
    match = _NUMBER.fullmatch(text)
    if match is None:
        return {"stringValue": text}
    if match.group(1) is None:
        return {"numberValue": int(text)}
    separator = DECIMAL_SEPARATORS.get(locale)
    if separator is None or text[-len(match.group(1)) - 1] != separator:
        return {"stringValue": text}
    return {"numberValue": float(text.replace(separator, "."))}


def _cell_value(cell: dict[str, Any]) -> Any:
    value = cell.get("userEnteredValue") or {}
    for kind in ("stringValue", "numberValue", "boolValue", "formulaValue"):
        if kind in value:
            return value[kind]
    return None


class FakeSheets:
    """Sheets API v4 over loopback: spreadsheets.get, values.get, batchUpdate, OAuth2 token."""

    def __init__(self) -> None:
        self.spreadsheets: dict[str, FakeSpreadsheet] = {}
        self.requests: list[LoggedRequest] = []
        self.batch_bodies: list[dict[str, Any]] = []
        self._faults: list[tuple[int, str | None]] = []
        self._tokens: dict[str, str] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/token", self._token)
        app.router.add_get("/v4/spreadsheets/{id}/values/{range}", self._values_get)
        app.router.add_get("/v4/spreadsheets/{id}", self._get)
        app.router.add_post("/v4/spreadsheets/{id}:batchUpdate", self._batch_update)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeSheets:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def add_spreadsheet(
        self,
        spreadsheet_id: str,
        *,
        title: str = "Остатки WB",
        tabs: tuple[str, ...] = ("Лист1",),
        shared: bool = True,
        locale: str = "ru_RU",
    ) -> FakeSpreadsheet:
        """A spreadsheet; `shared=False` means the service account was never given access."""
        sheet = FakeSpreadsheet(spreadsheet_id, title, shared=shared, locale=locale)
        for index, tab_title in enumerate(tabs):
            sheet.tabs.append(FakeTab(sheet_id=index * 1000 + 7, title=tab_title, index=index))
        self.spreadsheets[spreadsheet_id] = sheet
        return sheet

    def fail_next(self, status: int, times: int = 1, *, kind: str | None = None) -> None:
        """The next `times` API requests (of `kind` "read"/"write" if given) answer `status`."""
        self._faults.extend([(status, kind)] * times)

    def count(self, kind: str) -> int:
        return sum(1 for request in self.requests if request.kind == kind)

    @property
    def reads(self) -> int:
        return self.count("read")

    @property
    def writes(self) -> int:
        return self.count("write")

    def tab(self, spreadsheet_id: str, title: str) -> FakeTab:
        for tab in self.spreadsheets[spreadsheet_id].tabs:
            if tab.title == title:
                return tab
        raise KeyError(title)

    def cells(self, spreadsheet_id: str, title: str) -> list[list[Any]]:
        """The tab's values as rows, each cut after its last value; trailing empty rows cut."""
        tab = self.tab(spreadsheet_id, title)
        grid: list[list[Any]] = [[] for _ in range(tab.row_count)]
        found = [
            (at, _cell_value(cell)) for at, cell in tab.cells.items() if "userEnteredValue" in cell
        ]
        for (row, column), value in sorted(found, key=lambda item: item[0]):
            if value is None:
                continue
            line = grid[row]
            line.extend([None] * (column + 1 - len(line)))
            line[column] = value
        while grid and not grid[-1]:
            grid.pop()
        return grid

    def apply_batch(self, spreadsheet_id: str, body: bytes) -> None:
        """Apply a batchUpdate body in process, as an HTTP batchUpdate would (all or nothing)."""
        sheet = self.spreadsheets[spreadsheet_id]
        if len(body) > _MAX_BODY_BYTES:
            raise FakeApiError(400, "Request payload size exceeds the limit: 10485760 bytes.")
        draft = copy.deepcopy(sheet)
        for item in json.loads(body).get("requests", []):
            self._apply(draft, item)
        self.spreadsheets[spreadsheet_id] = draft

    def cell_format(self, spreadsheet_id: str, title: str, row: int, column: int) -> Any:
        cell = self.tab(spreadsheet_id, title).cells.get((row, column), {})
        return cell.get("userEnteredFormat", {})

    def _log(self, request: web.Request, kind: str, body: bytes, status: int) -> None:
        self.requests.append(LoggedRequest(request.method, request.path, kind, len(body), status))

    @staticmethod
    def _error(code: int, message: str) -> web.Response:
        body = {"error": {"code": code, "message": message, "status": _STATUS_NAMES[code]}}
        return web.json_response(body, status=code)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self._log(request, "token", b"", 200)
        assertion = str(form.get("assertion", ""))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            payload = assertion.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError):
            return web.json_response({"error": "invalid_grant"}, status=400)
        token = "ya29.fake-" + secrets.token_urlsafe(16)
        self._tokens[token] = str(claims.get("iss", ""))
        return web.json_response(
            {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        )

    def _open(self, request: web.Request) -> FakeSpreadsheet:
        """The spreadsheet the request names, after faults, auth and sharing are checked."""
        kind = "read" if request.method == "GET" else "write"
        for index, (code, fault_kind) in enumerate(self._faults):
            if fault_kind in (None, kind):
                del self._faults[index]
                message = _FAULT_MESSAGES.get(code, "The caller does not have permission")
                raise FakeApiError(code, message)
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header[7:] not in self._tokens:
            raise FakeApiError(401, "Request had invalid authentication credentials.")
        sheet = self.spreadsheets.get(request.match_info["id"])
        if sheet is None:
            raise FakeApiError(404, "Requested entity was not found.")
        if not sheet.shared:
            raise FakeApiError(403, "The caller does not have permission")
        return sheet

    async def _get(self, request: web.Request) -> web.Response:
        try:
            sheet = self._open(request)
        except FakeApiError as error:
            self._log(request, "read", b"", error.code)
            return self._error(error.code, error.message)
        self._log(request, "read", b"", 200)
        fields = request.query.get("fields", "")
        body: dict[str, Any] = {
            "spreadsheetId": sheet.spreadsheet_id,
            "properties": {
                "title": sheet.title,
                "locale": sheet.locale,
                "timeZone": "Europe/Moscow",
            },
            "sheets": [{"properties": tab.properties()} for tab in sheet.tabs],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{sheet.spreadsheet_id}/edit",
        }
        if fields:
            wanted = {path.split(".")[0] for path in _expand_fields(fields)}
            body = {key: value for key, value in body.items() if key in wanted}
        return web.json_response(body)

    async def _values_get(self, request: web.Request) -> web.Response:
        try:
            sheet = self._open(request)
        except FakeApiError as error:
            self._log(request, "read", b"", error.code)
            return self._error(error.code, error.message)
        self._log(request, "read", b"", 200)
        a1 = unquote(request.match_info["range"])
        title = a1.split("!")[0].strip("'")
        try:
            rows = self.cells(sheet.spreadsheet_id, title)
        except KeyError:
            return self._error(400, f"Unable to parse range: {a1}")
        raw = request.query.get("valueRenderOption") == "UNFORMATTED_VALUE"
        values = [
            [("" if v is None else v) if raw else ("" if v is None else str(v)) for v in row]
            for row in rows
        ]
        return web.json_response({"range": a1, "majorDimension": "ROWS", "values": values})

    async def _batch_update(self, request: web.Request) -> web.Response:
        body_bytes = await request.read()
        try:
            sheet = self._open(request)
            if len(body_bytes) > _MAX_BODY_BYTES:
                raise FakeApiError(400, "Request payload size exceeds the limit: 10485760 bytes.")
            body = json.loads(body_bytes)
            self.batch_bodies.append(body)
            # All or nothing, as Google applies a batchUpdate.
            draft = copy.deepcopy(sheet)
            replies = [self._apply(draft, item) for item in body.get("requests", [])]
        except FakeApiError as error:
            self._log(request, "write", body_bytes, error.code)
            return self._error(error.code, error.message)
        self.spreadsheets[sheet.spreadsheet_id] = draft
        self._log(request, "write", body_bytes, 200)
        return web.json_response({"spreadsheetId": sheet.spreadsheet_id, "replies": replies})

    def _apply(self, sheet: FakeSpreadsheet, item: dict[str, Any]) -> dict[str, Any]:
        (name, request), *rest = item.items()
        if rest:
            raise FakeApiError(400, "Invalid value: a Request holds exactly one kind")
        handler = getattr(self, f"_do_{name}", None)
        if handler is None:
            raise FakeApiError(400, f"Unsupported request in fake: {name}")
        reply: dict[str, Any] = handler(sheet, request)
        return reply

    def _do_addSheet(self, sheet: FakeSpreadsheet, request: dict[str, Any]) -> dict[str, Any]:
        properties = request.get("properties", {})
        title = properties.get("title") or f"Лист{len(sheet.tabs) + 1}"
        sheet_id = properties.get("sheetId", max((t.sheet_id for t in sheet.tabs), default=0) + 1)
        if any(tab.title == title for tab in sheet.tabs):
            raise FakeApiError(
                400,
                f'Invalid requests[0].addSheet: A sheet with the name "{title}" already exists.',
            )
        if any(tab.sheet_id == sheet_id for tab in sheet.tabs):
            raise FakeApiError(400, f"Invalid requests[0].addSheet: sheetId {sheet_id} in use")
        grid = properties.get("gridProperties", {})
        tab = FakeTab(
            sheet_id=sheet_id,
            title=title,
            index=properties.get("index", len(sheet.tabs)),
            row_count=grid.get("rowCount", 1000),
            column_count=grid.get("columnCount", 26),
            frozen_rows=grid.get("frozenRowCount", 0),
            frozen_columns=grid.get("frozenColumnCount", 0),
        )
        sheet.tabs.append(tab)
        return {"addSheet": {"properties": tab.properties()}}

    def _do_updateSheetProperties(
        self, sheet: FakeSpreadsheet, request: dict[str, Any]
    ) -> dict[str, Any]:
        source = request["properties"]
        tab = sheet.tab(source["sheetId"])
        properties = _apply_mask(tab.properties(), source, request["fields"])
        grid = properties.get("gridProperties", {})
        tab.title = properties.get("title", tab.title)
        tab.row_count = grid.get("rowCount", tab.row_count)
        tab.column_count = grid.get("columnCount", tab.column_count)
        tab.frozen_rows = grid.get("frozenRowCount", 0)
        tab.frozen_columns = grid.get("frozenColumnCount", 0)
        if tab.frozen_rows >= tab.row_count:
            raise FakeApiError(400, "You can't freeze all visible rows on the sheet.")
        if tab.frozen_columns >= tab.column_count:
            raise FakeApiError(400, "You can't freeze all visible columns on the sheet.")
        tab.cells = {
            (r, c): cell
            for (r, c), cell in tab.cells.items()
            if r < tab.row_count and c < tab.column_count
        }
        return {}

    @staticmethod
    def _bounds(tab: FakeTab, grid_range: dict[str, Any]) -> tuple[int, int, int, int]:
        bounds = (
            grid_range.get("startRowIndex", 0),
            grid_range.get("endRowIndex", tab.row_count),
            grid_range.get("startColumnIndex", 0),
            grid_range.get("endColumnIndex", tab.column_count),
        )
        if bounds[1] > tab.row_count or bounds[3] > tab.column_count:
            raise FakeApiError(400, f"Range ('{tab.title}') exceeds grid limits.")
        return bounds

    def _do_updateCells(self, sheet: FakeSpreadsheet, request: dict[str, Any]) -> dict[str, Any]:
        mask = request["fields"]
        rows = request.get("rows", [])
        if "range" in request:
            tab = sheet.tab(request["range"]["sheetId"])
            top, bottom, left, right = self._bounds(tab, request["range"])
            for r in range(top, bottom):
                for c in range(left, right):
                    if (r, c) in tab.cells:
                        tab.cells[(r, c)] = _apply_mask(tab.cells[(r, c)], {}, mask)
        else:
            start = request["start"]
            tab = sheet.tab(start["sheetId"])
            top, left = start.get("rowIndex", 0), start.get("columnIndex", 0)
        for r, row in enumerate(rows, start=top):
            for c, cell in enumerate(row.get("values", []), start=left):
                if r >= tab.row_count or c >= tab.column_count:
                    raise FakeApiError(400, f"Range ('{tab.title}') exceeds grid limits.")
                tab.cells[(r, c)] = _apply_mask(tab.cells.get((r, c), {}), cell, mask)
        return {}

    def _do_pasteData(self, sheet: FakeSpreadsheet, request: dict[str, Any]) -> dict[str, Any]:
        """Plain-text paste: rows split on newlines, cells on the delimiter, parsed as typed.

        PASTE_VALUES keeps the cells' formats; PASTE_NORMAL resets them (plain text has none).
        """
        if request.get("html"):
            raise FakeApiError(400, "Unsupported in fake: html paste")
        paste_type = request.get("type", "PASTE_NORMAL")
        if paste_type not in ("PASTE_VALUES", "PASTE_NORMAL"):
            raise FakeApiError(400, f"Unsupported paste type in fake: {paste_type}")
        delimiter = request.get("delimiter")
        if not delimiter:
            raise FakeApiError(400, "Invalid requests.pasteData: delimiter is required")
        coordinate = request["coordinate"]
        tab = sheet.tab(coordinate["sheetId"])
        top, left = coordinate.get("rowIndex", 0), coordinate.get("columnIndex", 0)
        for r, line in enumerate(request.get("data", "").split("\n"), start=top):
            for c, text in enumerate(line.split(delimiter), start=left):
                if r >= tab.row_count or c >= tab.column_count:
                    raise FakeApiError(400, f"Range ('{tab.title}') exceeds grid limits.")
                cell = tab.cells.get((r, c), {})
                if paste_type == "PASTE_NORMAL":
                    cell.pop("userEnteredFormat", None)
                value = parse_pasted(text, sheet.locale)
                if value is None:
                    cell.pop("userEnteredValue", None)
                else:
                    cell["userEnteredValue"] = value
                tab.cells[(r, c)] = cell
        return {}

    def _do_repeatCell(self, sheet: FakeSpreadsheet, request: dict[str, Any]) -> dict[str, Any]:
        tab = sheet.tab(request["range"]["sheetId"])
        top, bottom, left, right = self._bounds(tab, request["range"])
        mask, source = request["fields"], request["cell"]
        if mask.strip() == "*":
            for r in range(top, bottom):
                for c in range(left, right):
                    tab.cells[(r, c)] = _clone(source)
            return {}
        paths = [(path, _get_path(source, path)) for path in _expand_fields(mask)]
        for r in range(top, bottom):
            for c in range(left, right):
                target = tab.cells.setdefault((r, c), {})
                for path, value in paths:
                    _set_path(target, path, value)
        return {}

    def _do_updateDimensionProperties(
        self, sheet: FakeSpreadsheet, request: dict[str, Any]
    ) -> dict[str, Any]:
        span = request["range"]
        tab = sheet.tab(span["sheetId"])
        if span["dimension"] == "COLUMNS" and "pixelSize" in request["properties"]:
            for column in range(span["startIndex"], span["endIndex"]):
                tab.column_pixels[column] = request["properties"]["pixelSize"]
        return {}

    def _do_autoResizeDimensions(
        self, sheet: FakeSpreadsheet, request: dict[str, Any]
    ) -> dict[str, Any]:
        span = request["dimensions"]
        tab = sheet.tab(span["sheetId"])
        if span["dimension"] == "COLUMNS":
            tab.auto_resized_columns.update(range(span["startIndex"], span["endIndex"]))
        return {}


def write_service_account_file(path: str | Path, token_uri: str) -> str:
    """Write a service-account JSON with a fresh RSA key; return the account's email."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    email = "stock-export@wb-stock-tracker-test.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": "wb-stock-tracker-test",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + email.replace("@", "%40"),
        "universe_domain": "googleapis.com",
    }
    Path(path).write_text(json.dumps(info, indent=2), encoding="utf-8")
    return email


def generated_report(
    *,
    products: int,
    warehouses: int,
    seller_warehouses: int = 5,
    warehouses_per_product: int = 8,
    sizes: int = 3,
) -> StockReport:
    """A deterministic report of any size: `warehouses` in all (the last ones the seller's)."""
    now = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
    names = [
        (WarehouseKind.SELLER, f"Склад продавца {i + 1}")
        if i >= warehouses - seller_warehouses
        else (WarehouseKind.WB, f"Склад WB Коледино {i + 1}")
        for i in range(warehouses)
    ]
    summaries: list[ProductSummary] = []
    rows: list[StockRow] = []
    for p in range(products):
        nm_id = 100_000_000 + p * 37
        figures: list[WarehouseFigures] = []
        for w in range(warehouses_per_product):
            kind, name = names[(p + w * 7) % warehouses]
            stock, orders = (p * 13 + w * 5) % 90, (p + w) % 11
            cover = None if orders == 0 else stock / (orders / 7)
            figures.append(WarehouseFigures(name, kind, stock * sizes, orders * sizes, 0, cover))
            for s in range(sizes):
                rows.append(
                    StockRow(
                        nm_id=nm_id,
                        chrt_id=nm_id * 10 + s,
                        barcode=f"20{nm_id:09d}{s:02d}",
                        size=str(42 + 2 * s),
                        warehouse=name,
                        kind=kind,
                        stock=stock,
                        orders=orders,
                        cancelled=0,
                        days_of_cover=cover,
                    )
                )
        fbo = sum(f.stock for f in figures if f.kind is WarehouseKind.WB)
        fbs = sum(f.stock for f in figures if f.kind is WarehouseKind.SELLER)
        orders_total = sum(f.orders for f in figures)
        summaries.append(
            ProductSummary(
                nm_id=nm_id,
                vendor_code=f"ART-{p:05d}",
                brand="Nordic Line",
                subject="Футболки",
                title=f"Футболка оверсайз {p}",
                sizes=sizes,
                fbo_units=fbo,
                fbs_units=fbs,
                in_transit_to_buyers=p % 4,
                in_transit_returns=p % 2,
                orders=orders_total,
                cancelled=0,
                days_of_cover=None if orders_total == 0 else (fbo + fbs) / (orders_total / 7),
            )
        )
    totals = ReportTotals(
        products=len(summaries),
        sizes=len(summaries) * sizes,
        fbo_units=sum(s.fbo_units for s in summaries),
        fbs_units=sum(s.fbs_units for s in summaries),
        in_transit_to_buyers=sum(s.in_transit_to_buyers for s in summaries),
        in_transit_returns=sum(s.in_transit_returns for s in summaries),
        orders=sum(s.orders for s in summaries),
        cancelled=0,
    )
    low: tuple[LowStockItem, ...] = ()
    return StockReport(
        generated_at=now,
        window_days=7,
        window_start=datetime(2025, 3, 3),
        window_end=datetime(2025, 3, 10),
        low_stock_threshold=7.0,
        products=tuple(summaries),
        rows=tuple(rows),
        totals=totals,
        low_stock=low,
        part_times={part: now - timedelta(minutes=5) for part in DataPart},
    )
