"""An in-process fake of the Telegram Bot API for tests.

``FakeTelegram`` is a real HTTP server (aiohttp.web on 127.0.0.1, random port) that speaks the
Bot API wire protocol, so the project's real aiogram ``Bot``/``Dispatcher`` talk to it unchanged::

    async with FakeTelegram() as tg:
        session = AiohttpSession(api=TelegramAPIServer.from_base(tg.url))
        bot = Bot(tg.token, session=session)
        ...
        tg.user_says("/start")
        reply = await tg.wait_for_message(1001)

Requests are ``{base}/bot{token}/{method}`` (GET or POST; query string, urlencoded,
multipart/form-data or JSON bodies).  Responses are ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": ..., "description": ..., "parameters": {...}}`` exactly like the
real API, so aiogram raises its real exception classes (``TelegramRetryAfter`` etc.).

Everything runs on the test's event loop; the simulation helpers (``user_says`` ...) are
synchronous and may be called at any time.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import itertools
import json
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final

from aiohttp import web
from multidict import MultiDictProxy

JSON = dict[str, Any]

__all__ = [
    "ApiCall",
    "FakeTelegram",
    "FakeTelegramTimeout",
    "SentDocument",
    "UploadedFile",
]

TEXT_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024
UPLOAD_LIMIT: Final = 50 * 1024 * 1024

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED: Final = "Forbidden: bot was blocked by the user"
MIGRATED: Final = "Bad Request: group chat was upgraded to a supergroup chat"
QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)

# Update types Telegram delivers when allowed_updates is empty / never set.
_DEFAULT_EXCLUDED_UPDATES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)

# Form fields that are always plain strings (never JSON-decoded, so text "123" stays "123").
_STRING_FIELDS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "language_code",
        "title",
        "description",
        "short_description",
        "name",
        "business_connection_id",
        "inline_message_id",
        "emoji",
        "query",
        "message_effect_id",
        "file_id",
        "question",
        "address",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "payload",
        "currency",
        "start_parameter",
        "custom_title",
        "invite_link",
        "document",
        "photo",
        "video",
        "audio",
        "voice",
        "animation",
        "sticker",
        "video_note",
        "thumbnail",
    }
)

_MEDIA_METHODS: Final = {
    "sendDocument": "document",
    "sendPhoto": "photo",
    "sendVideo": "video",
    "sendAudio": "audio",
    "sendVoice": "voice",
    "sendAnimation": "animation",
    "sendSticker": "sticker",
    "sendVideoNote": "video_note",
}

# Methods answered with a bare ``True`` (recorded, otherwise no effect).
_TRUE_METHODS: Final = (
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setChatMenuButton",
    "setMyDefaultAdministratorRights",
    "pinChatMessage",
    "unpinChatMessage",
    "unpinAllChatMessages",
    "setMessageReaction",
    "leaveChat",
    "logOut",
    "close",
)

_INLINE_BUTTON_ACTIONS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")


# --------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (or a file a simulated user sent)."""

    filename: str
    content: bytes
    content_type: str | None = None


@dataclass
class ApiCall:
    """One Bot API request as the fake received it.

    ``params`` are the decoded fields: JSON fields (reply_markup, commands, ints, bools) are
    decoded, plain text fields stay strings, uploaded files are :class:`UploadedFile`
    (``attach://`` references are resolved).
    """

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when the request arrived
    index: int = 0  # position in FakeTelegram.calls
    ok: bool = True
    error_code: int | None = None
    description: str | None = None
    result: Any = None

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")


@dataclass(frozen=True)
class SentDocument:
    chat_id: int
    message_id: int
    filename: str
    content: bytes
    caption: str | None
    mime_type: str | None
    file_id: str


class FakeTelegramTimeout(AssertionError):
    """Raised by the ``wait_*`` helpers when the condition is not met in time."""


class _ApiError(Exception):
    def __init__(self, error_code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass
class _Fault:
    method: str
    error_code: int
    description: str
    parameters: JSON | None
    times: int
    chat_id: int | str | None


@dataclass
class _StoredMessage:
    message: JSON
    from_bot: bool
    call_index: int  # index of the call that created it (-1 for user messages)
    history: list[JSON] = field(default_factory=list)
    edit_call_indexes: list[int] = field(default_factory=list)
    deleted: bool = False
    file: UploadedFile | None = None


@dataclass
class _Chat:
    chat: JSON
    next_message_id: int = 1
    messages: dict[int, _StoredMessage] = field(default_factory=dict)


class _Notifier:
    """Broadcast "something changed" to async waiters; ``notify`` is synchronous."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            event = self._event
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                pass
        return True


# --------------------------------------------------------------------------------------
# Entity parsing (parse_mode) — close enough to tdlib to catch real formatting bugs
# --------------------------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _EntityBuilder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length16 = 0
        self.entities: list[JSON] = []

    def append(self, text: str) -> None:
        self.parts.append(text)
        self.length16 += _utf16_len(text)

    def add(self, entity_type: str, start16: int, **extra: Any) -> None:
        length = self.length16 - start16
        if length > 0:
            self.entities.append(
                {"type": entity_type, "offset": start16, "length": length, **extra}
            )

    def result(self) -> tuple[str, list[JSON]]:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


_HTML_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY_RE: Final = re.compile(r"&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});")
_HTML_NAMED: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ATTR_RE: Final = re.compile(
    r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)


def _parse_html(src: str) -> tuple[str, list[JSON]]:
    out = _EntityBuilder()
    stack: list[tuple[str, int, dict[str, str]]] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "&":
            m = _HTML_ENTITY_RE.match(src, i)
            decoded: str | None = None
            if m:
                name = m.group(1)
                if name.startswith(("#x", "#X")):
                    decoded = chr(int(name[2:], 16)) if int(name[2:], 16) < 0x110000 else None
                elif name.startswith("#"):
                    decoded = chr(int(name[1:])) if int(name[1:]) < 0x110000 else None
                else:
                    decoded = _HTML_NAMED.get(name)
            if m and decoded is not None:
                out.append(decoded)
                i = m.end()
            else:
                out.append("&")
                i += 1
            continue
        if ch != "<":
            j = i
            while j < n and src[j] not in "<&":
                j += 1
            out.append(src[i:j])
            i = j
            continue
        offset = _byte_offset(src, i)
        if src.startswith("</", i):
            end = src.find(">", i)
            if end < 0:
                raise ValueError(f"Unclosed end tag at byte offset {offset}")
            name = src[i + 2 : end].strip().lower()
            if not stack:
                raise ValueError(f"Unexpected end tag at byte offset {offset}")
            tag, start16, attrs = stack.pop()
            if tag != name:
                raise ValueError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            kind = _HTML_TAGS[tag]
            if kind == "text_link":
                out.add("text_link", start16, url=attrs.get("href", ""))
            elif kind == "custom_emoji":
                out.add("custom_emoji", start16, custom_emoji_id=attrs.get("emoji-id", ""))
            elif kind == "code" and stack and stack[-1][0] == "pre":
                language = attrs.get("class", "")
                if language.startswith("language-"):
                    stack[-1][2]["_language"] = language.removeprefix("language-")
                else:
                    out.add("code", start16)
            elif kind == "pre":
                extra = {"language": attrs["_language"]} if "_language" in attrs else {}
                out.add("pre", start16, **extra)
            elif kind == "blockquote" and "expandable" in attrs:
                out.add("expandable_blockquote", start16)
            else:
                out.add(kind, start16)
            i = end + 1
            continue
        j = i + 1
        while j < n and src[j] not in " \t\r\n>":
            j += 1
        if j >= n:
            raise ValueError(f"Unclosed start tag at byte offset {offset}")
        name = src[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise ValueError(f'Unsupported start tag "{name}" at byte offset {offset}')
        end = src.find(">", j)
        if end < 0:
            raise ValueError(f"Unclosed start tag at byte offset {offset}")
        attrs = {
            m.group(1).lower(): next((g for g in m.group(2, 3, 4) if g is not None), "")
            for m in _HTML_ATTR_RE.finditer(src[j:end])
        }
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise ValueError('Tag "span" must have class "tg-spoiler"')
        stack.append((name, out.length16, attrs))
        i = end + 1
    if stack:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


_MDV2_RESERVED: Final = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES: Final = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "`": "Code",
    "```": "Pre",
    "[": "TextUrl",
}
_MDV2_TYPES: Final = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
    "`": "code",
}


def _parse_markdown_v2(src: str) -> tuple[str, list[JSON]]:
    out = _EntityBuilder()
    stack: list[tuple[str, int, int, str]] = []  # marker, start16, byte offset, language
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        top = stack[-1][0] if stack else None
        if ch == "\\" and i + 1 < n and 0 < ord(src[i + 1]) <= 126:
            out.append(src[i + 1])
            i += 2
            continue
        if top in ("`", "```"):
            if top == "```" and src.startswith("```", i):
                _, start16, _, language = stack.pop()
                out.add("pre", start16, **({"language": language} if language else {}))
                i += 3
            elif top == "`" and ch == "`":
                _, start16, _, _ = stack.pop()
                out.add("code", start16)
                i += 1
            else:
                out.append(ch)
                i += 1
            continue
        offset = _byte_offset(src, i)
        if src.startswith("```", i):
            newline = src.find("\n", i + 3)
            language = ""
            if newline >= 0 and re.fullmatch(r"[^\s`]*", src[i + 3 : newline]):
                language = src[i + 3 : newline]
                i = newline + 1
            else:
                i += 3
            stack.append(("```", out.length16, offset, language))
            continue
        marker = (
            "__"
            if src.startswith("__", i)
            else "||"
            if src.startswith("||", i)
            else ch
            if ch in "*_~`"
            else None
        )
        if marker is not None:
            if top == marker:
                _, start16, _, _ = stack.pop()
                out.add(_MDV2_TYPES[marker], start16)
            else:
                stack.append((marker, out.length16, offset, ""))
            i += len(marker)
            continue
        if ch == "[":
            stack.append(("[", out.length16, offset, ""))
            i += 1
            continue
        if ch == "]" and top == "[" and src.startswith("(", i + 1):
            j = i + 2
            url_chars: list[str] = []
            while j < n and src[j] != ")":
                if src[j] == "\\" and j + 1 < n:
                    j += 1
                url_chars.append(src[j])
                j += 1
            if j >= n:
                raise ValueError(f"Can't find end of a URL at byte offset {offset}")
            _, start16, _, _ = stack.pop()
            out.add("text_link", start16, url="".join(url_chars))
            i = j + 1
            continue
        if ch == ">" and (i == 0 or src[i - 1] == "\n"):
            i += 1  # block quotation marker: accepted, entity not modelled
            continue
        if ch in _MDV2_RESERVED:
            raise ValueError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(ch)
        i += 1
    if stack:
        marker, _, offset, _ = stack[-1]
        raise ValueError(f"Can't find end of {_MDV2_NAMES[marker]} entity at byte offset {offset}")
    return out.result()


def _parse_markdown(src: str) -> tuple[str, list[JSON]]:
    """Legacy ``Markdown`` parse mode."""
    out = _EntityBuilder()
    i, n = 0, len(src)
    types = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n and src[i + 1] in "*_`[":
            out.append(src[i + 1])
            i += 2
            continue
        offset = _byte_offset(src, i)
        if src.startswith("```", i):
            end = src.find("```", i + 3)
            if end < 0:
                raise ValueError(f"Can't find end of the entity starting at byte offset {offset}")
            start16 = out.length16
            out.append(src[i + 3 : end])
            out.add("pre", start16)
            i = end + 3
            continue
        if ch in types:
            end = src.find(ch, i + 1)
            if end < 0:
                raise ValueError(f"Can't find end of the entity starting at byte offset {offset}")
            start16 = out.length16
            out.append(src[i + 1 : end])
            out.add(types[ch], start16)
            i = end + 1
            continue
        if ch == "[":
            m = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(src, i)
            if m is None:
                raise ValueError(f"Can't find end of the entity starting at byte offset {offset}")
            start16 = out.length16
            out.append(m.group(1))
            out.add("text_link", start16, url=m.group(2))
            i = m.end()
            continue
        out.append(ch)
        i += 1
    return out.result()


def parse_formatted_text(text: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    """Return (plain text, entities) the way Telegram stores a formatted message.

    Raises ``_ApiError`` 400 "Bad Request: can't parse entities: ..." on malformed markup.
    """
    mode = (parse_mode or "").lower()
    try:
        if mode == "html":
            return _parse_html(text)
        if mode == "markdownv2":
            return _parse_markdown_v2(text)
        if mode == "markdown":
            return _parse_markdown(text)
    except ValueError as exc:
        raise _bad_request(f"can't parse entities: {exc}") from exc
    if mode:
        raise _bad_request(f"unsupported parse_mode {parse_mode}")
    return text, []


# --------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------

_Handler = Callable[[str, JSON], Awaitable[Any]]
Predicate = Callable[[JSON], bool]


class FakeTelegram:
    """Fake Bot API server.  See the module docstring for usage."""

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_username: str = "test_wb_bot",
        bot_first_name: str = "WB Test Bot",
        raise_server_errors: bool = True,
        port: int = 0,
    ) -> None:
        self.token = token
        self.port = port  # 0: any free port; a fixed one lets a test stop and restart "Telegram"
        bot_id = token.split(":", 1)[0]
        self.bot_user: JSON = {
            "id": int(bot_id) if bot_id.isdigit() else 123456,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.raise_server_errors = raise_server_errors

        self.calls: list[ApiCall] = []
        self.server_errors: list[BaseException] = []
        self.callback_answers: dict[str, JSON] = {}
        self.dropped_updates: list[JSON] = []  # filtered out by allowed_updates
        self.webhook: JSON = {}

        self._notifier = _Notifier()
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._active_polls = 0
        self._closing = False
        self._last_action_mark = 0

        self._chats: dict[int, _Chat] = {}
        self._chat_usernames: dict[str, int] = {}
        self._users: dict[int, JSON] = {}
        self._last_user_in_chat: dict[int, int] = {}
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._file_seq = itertools.count(1)
        self._files: dict[str, UploadedFile] = {}
        self._file_paths: dict[str, str] = {}  # file_path -> file_id
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._faults: list[_Fault] = []
        self._blocked: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._send_log: list[tuple[float, int]] = []
        self._rate_per_chat: int | None = None
        self._rate_overall: int | None = None
        self._rate_window = 1.0
        self._rate_retry_after = 1
        self._stubs: dict[str, Any] = {}
        self._delays: dict[str, float] = {}
        self.received: collections.Counter[str] = collections.Counter()  # requests, even unanswered

        self._runner: web.AppRunner | None = None
        self._url: str | None = None

        self._handlers: dict[str, tuple[str, _Handler]] = {}
        for name, handler in {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._true,
            "answerCallbackQuery": self._answer_callback_query,
            "getChat": self._get_chat,
            "getFile": self._get_file,
            **dict.fromkeys(_MEDIA_METHODS, self._send_media),
            **dict.fromkeys(_TRUE_METHODS, self._true),
        }.items():
            self._handlers[name.lower()] = (name, handler)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
        if exc_type is None and self.raise_server_errors and self.server_errors:
            raise AssertionError(
                f"FakeTelegram crashed handling requests: {self.server_errors!r}"
            ) from self.server_errors[0]

    async def start(self) -> None:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 5 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: when aiogram cancels a long poll (stop_polling) the server side
        # getUpdates stops too, so a later poller does not see a phantom concurrent request.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        self._closing = False
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"

    async def close(self) -> None:
        self._closing = True
        self._notifier.notify()  # wake long polls: they answer [] immediately
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        """Base URL for ``TelegramAPIServer.from_base``."""
        if self._url is None:
            raise RuntimeError("FakeTelegram is not started (use `async with`)")
        return self._url

    # ------------------------------------------------------------------ HTTP layer

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error_response(_ApiError(401, "Unauthorized"))
        raw_method = request.match_info["method"]
        at = time.monotonic()
        try:
            params = await self._read_params(request)
        except Exception as exc:  # malformed body
            return self._error_response(_bad_request(f"can't parse request: {exc}"))
        known = self._handlers.get(raw_method.lower())
        method = known[0] if known else raw_method
        call = ApiCall(method=method, params=params, at=at)
        self.received[method] += 1
        self._notifier.notify()
        if method in self._delays:
            await asyncio.sleep(self._delays[method])  # a slow network: the request is in flight
        try:
            self._pre_checks(method, params)
            if method in self._stubs:
                stub = self._stubs[method]
                result = stub(params) if callable(stub) else copy.deepcopy(stub)
            elif known is None:
                raise _ApiError(404, "Not Found")
            else:
                result = await known[1](method, params)
        except _ApiError as err:
            call.ok = False
            call.error_code = err.error_code
            call.description = err.description
            self._record(call)
            return self._error_response(err)
        except Exception as exc:
            self.server_errors.append(exc)
            crash = _ApiError(500, f"Internal Server Error: {type(exc).__name__}: {exc}")
            call.ok, call.error_code, call.description = False, 500, crash.description
            self._record(call)
            return self._error_response(crash)
        call.result = result
        self._record(call)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        file_id = self._file_paths.get(request.match_info["path"])
        if file_id is None:
            raise web.HTTPNotFound()
        uploaded = self._files[file_id]
        return web.Response(
            body=uploaded.content,
            content_type=uploaded.content_type or "application/octet-stream",
        )

    @staticmethod
    def _error_response(err: _ApiError) -> web.Response:
        body: JSON = {"ok": False, "error_code": err.error_code, "description": err.description}
        if err.parameters:
            body["parameters"] = err.parameters
        return web.json_response(body, status=err.error_code, dumps=_dumps)

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = {}
        files: dict[str, UploadedFile] = {}
        for key, value in request.query.items():
            params[key] = _decode_field(key, value)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                params.update(self._decode_form(form, files))
        return {key: _resolve_attachments(value, files) for key, value in params.items()}

    @staticmethod
    def _decode_form(form: MultiDictProxy[Any], files: dict[str, UploadedFile]) -> JSON:
        params: JSON = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                uploaded = UploadedFile(
                    filename=value.filename or key,
                    content=value.file.read(),
                    content_type=value.content_type,
                )
                files[key] = uploaded
                params[key] = uploaded
            else:
                params[key] = _decode_field(key, str(value))
        return params

    def _record(self, call: ApiCall) -> None:
        call.index = len(self.calls)
        self.calls.append(call)
        self._notifier.notify()

    # ------------------------------------------------------------------ checks & faults

    def _pre_checks(self, method: str, params: JSON) -> None:
        chat_id = self._chat_key_or_none(params.get("chat_id"))
        for fault in self._faults:
            if fault.method not in ("*", method) and fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None and self._chat_key_or_none(fault.chat_id) != chat_id:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            raise _ApiError(fault.error_code, fault.description, fault.parameters)
        if chat_id is None or method == "getUpdates":
            return
        if chat_id in self._migrated:
            raise _ApiError(400, MIGRATED, {"migrate_to_chat_id": self._migrated[chat_id]})
        if chat_id in self._blocked:
            raise _ApiError(403, BLOCKED)
        if _is_send_method(method):
            self._check_rate(chat_id)

    def _check_rate(self, chat_id: int) -> None:
        if self._rate_per_chat is None and self._rate_overall is None:
            return
        since = time.monotonic() - self._rate_window
        recent = [c for t, c in self._send_log if t >= since]
        too_many = (
            self._rate_per_chat is not None
            and sum(1 for c in recent if c == chat_id) >= self._rate_per_chat
        ) or (self._rate_overall is not None and len(recent) >= self._rate_overall)
        if too_many:
            retry = self._rate_retry_after
            raise _ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        description: str = "Too Many Requests: retry after 2",
        retry_after: int | None = 2,
        times: int = 1,
        chat_id: int | str | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" = any) fail with this error.

        ``parameters.retry_after`` is sent only for error_code 429 (as Telegram does);
        ``chat_id`` restricts the fault to requests for that chat.
        """
        parameters: JSON = {}
        if error_code == 429 and retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        self._faults.append(
            _Fault(method, error_code, description, parameters or None, times, chat_id)
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    def block_chat(self, chat_id: int) -> None:
        """Every request for this chat now gets 403 "Forbidden: bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Requests for ``old_id`` get 400 with ``parameters.migrate_to_chat_id=new_id``."""
        self._migrated[old_id] = new_id
        old = self._chats.get(old_id)
        title = old.chat.get("title", "Test group") if old else "Test group"
        self._ensure_chat(new_id, {"id": new_id, "type": "supergroup", "title": title})

    def set_rate_limit(
        self,
        *,
        per_chat: int | None = None,
        overall: int | None = None,
        window: float = 1.0,
        retry_after: int = 1,
    ) -> None:
        """Enforce at most ``per_chat`` / ``overall`` sends per ``window`` seconds (429)."""
        self._rate_per_chat = per_chat
        self._rate_overall = overall
        self._rate_window = window
        self._rate_retry_after = retry_after

    def send_times(self, chat_id: int | None = None) -> list[float]:
        """time.monotonic() of each successful send (sendMessage, sendDocument, ...)."""
        return [t for t, c in self._send_log if chat_id is None or c == chat_id]

    def delay(self, method: str, seconds: float) -> None:
        """Answer every later call of ``method`` only after ``seconds``."""
        known = self._handlers.get(method.lower())
        self._delays[known[0] if known else method] = seconds

    def stub(self, method: str, result: Any) -> None:
        """Answer ``method`` with ``result`` (or ``result(params)`` if callable)."""
        known = self._handlers.get(method.lower())
        self._stubs[known[0] if known else method] = result

    # ------------------------------------------------------------------ chats & messages

    def _chat_key_or_none(self, chat_id: Any) -> int | None:
        if chat_id is None or isinstance(chat_id, bool):
            return None
        if isinstance(chat_id, int):
            return chat_id
        if isinstance(chat_id, str):
            if re.fullmatch(r"-?\d+", chat_id):
                return int(chat_id)
            if chat_id.startswith("@"):
                name = chat_id[1:].lower()
                if name not in self._chat_usernames:
                    new_id = -1_000_000_000_000 - len(self._chat_usernames) - 1
                    self._chat_usernames[name] = new_id
                    self._ensure_chat(
                        new_id,
                        {"id": new_id, "type": "channel", "title": name, "username": name},
                    )
                return self._chat_usernames[name]
        return None

    def _chat_key(self, chat_id: Any) -> int:
        key = self._chat_key_or_none(chat_id)
        if key is None:
            raise _bad_request("chat_id is empty" if chat_id is None else "chat not found")
        return key

    def _ensure_chat(self, chat_id: int, chat: JSON | None = None) -> _Chat:
        state = self._chats.get(chat_id)
        if state is None:
            if chat is None:
                if chat_id > 0:
                    user = self._users.get(chat_id)
                    chat = {
                        "id": chat_id,
                        "type": "private",
                        "first_name": user["first_name"] if user else "User",
                    }
                elif str(chat_id).startswith("-100"):
                    chat = {"id": chat_id, "type": "supergroup", "title": "Test group"}
                else:
                    chat = {"id": chat_id, "type": "group", "title": "Test group"}
            state = self._chats[chat_id] = _Chat(chat=chat)
        elif chat is not None:
            state.chat.update(chat)
        return state

    def _store(
        self, chat_id: int, message: JSON, *, from_bot: bool, file: UploadedFile | None = None
    ) -> _StoredMessage:
        state = self._ensure_chat(chat_id)
        message_id = int(message["message_id"])
        state.next_message_id = max(state.next_message_id, message_id + 1)
        stored = _StoredMessage(
            message=message,
            from_bot=from_bot,
            call_index=len(self.calls) if from_bot else -1,
            file=file,
        )
        state.messages[message_id] = stored
        return stored

    def _next_message_id(self, chat_id: int) -> int:
        return self._ensure_chat(chat_id).next_message_id

    def _find(self, chat_id: int, message_id: Any) -> _StoredMessage | None:
        state = self._chats.get(chat_id)
        if state is None or not isinstance(message_id, int):
            return None
        stored = state.messages.get(message_id)
        return None if stored is None or stored.deleted else stored

    @staticmethod
    def _export(stored: _StoredMessage) -> JSON:
        data = copy.deepcopy(stored.message)
        data["_history"] = copy.deepcopy(stored.history)
        data["_deleted"] = stored.deleted
        data["_from_bot"] = stored.from_bot
        data["_call_index"] = stored.call_index
        return data

    # ------------------------------------------------------------------ inspection helpers

    def mark(self) -> int:
        """Current number of recorded calls; pass as ``since=`` to the wait helpers."""
        return len(self.calls)

    def calls_to(self, method: str, *, since: int = 0) -> list[ApiCall]:
        return [c for c in self.calls[since:] if c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int, *, include_deleted: bool = True) -> list[JSON]:
        """Every message the bot sent to ``chat_id`` (any send method), oldest first.

        Each dict is the current Telegram Message object (text after edits) plus
        ``_history`` (earlier versions, oldest first), ``_deleted``, ``_from_bot``,
        ``_call_index``.
        """
        state = self._chats.get(chat_id)
        if state is None:
            return []
        return [
            self._export(m)
            for _, m in sorted(state.messages.items())
            if m.from_bot and (include_deleted or not m.deleted)
        ]

    def texts(self, chat_id: int, *, include_deleted: bool = True) -> list[str]:
        """Texts (or captions) of the bot's messages in ``chat_id``."""
        return [
            str(m.get("text", m.get("caption", "")))
            for m in self.sent_messages(chat_id, include_deleted=include_deleted)
        ]

    def last_message(self, chat_id: int) -> JSON:
        messages = self.sent_messages(chat_id)
        if not messages:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return messages[-1]

    def chat_history(self, chat_id: int) -> list[JSON]:
        """All messages in the chat (user's and bot's), ordered by message_id."""
        state = self._chats.get(chat_id)
        if state is None:
            return []
        return [self._export(m) for _, m in sorted(state.messages.items())]

    def documents(self, chat_id: int) -> list[SentDocument]:
        state = self._chats.get(chat_id)
        if state is None:
            return []
        result = []
        for message_id, stored in sorted(state.messages.items()):
            document = stored.message.get("document")
            if stored.from_bot and document is not None and stored.file is not None:
                result.append(
                    SentDocument(
                        chat_id=chat_id,
                        message_id=message_id,
                        filename=stored.file.filename,
                        content=stored.file.content,
                        caption=stored.message.get("caption"),
                        mime_type=document.get("mime_type"),
                        file_id=document["file_id"],
                    )
                )
        return result

    def deleted(self, chat_id: int) -> set[int]:
        state = self._chats.get(chat_id)
        if state is None:
            return set()
        return {mid for mid, m in state.messages.items() if m.deleted}

    def commands(
        self, language_code: str | None = None, scope: Mapping[str, Any] | None = None
    ) -> list[JSON]:
        """Commands set by setMyCommands for (scope, language_code); default scope/"" lang."""
        return copy.deepcopy(self._commands.get(_commands_key(scope, language_code), []))

    @property
    def all_commands(self) -> dict[tuple[str, str], list[JSON]]:
        """{(scope JSON with sorted keys, language_code): commands}."""
        return copy.deepcopy(self._commands)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot (via getUpdates offset)."""
        return copy.deepcopy(self._updates)

    # ------------------------------------------------------------------ simulating users

    def _user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> JSON:
        user = self._users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": first_name or "Seller"}
            self._users[user_id] = user
        if first_name is not None:
            user["first_name"] = first_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        return dict(user)

    def _user_for_chat(self, chat_id: int, user_id: int | None) -> int:
        if user_id is not None:
            return user_id
        if chat_id in self._last_user_in_chat:
            return self._last_user_in_chat[chat_id]
        return chat_id if chat_id > 0 else 1001

    def _build_message(
        self,
        *,
        chat_id: int,
        user_id: int | None,
        language_code: str | None,
        chat_type: str,
        first_name: str,
        username: str | None,
        chat_title: str | None,
        body: JSON,
    ) -> tuple[str, JSON]:
        uid = self._user_for_chat(chat_id, user_id)
        user = self._user(
            uid, first_name=first_name, username=username, language_code=language_code
        )
        if chat_type == "private":
            chat: JSON = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
        else:
            chat = {"id": chat_id, "type": chat_type, "title": chat_title or "Test group"}
        state = self._ensure_chat(chat_id, chat)
        message: JSON = {
            "message_id": state.next_message_id,
            "date": int(time.time()),
            "chat": dict(state.chat),
            **body,
        }
        if chat_type == "channel":
            message["sender_chat"] = dict(state.chat)
            kind = "channel_post"
        else:
            message["from"] = user
            self._last_user_in_chat[chat_id] = uid
            kind = "message"
        self._store(chat_id, message, from_bot=False)
        return kind, message

    def _next_update_id(self) -> int:
        # every simulated user action moves the default ``since`` of the wait helpers
        self._last_action_mark = len(self.calls)
        self._last_update_id = max(self._last_update_id + 1, next(self._update_ids))
        return self._last_update_id

    def make_update_json(
        self,
        text: str,
        *,
        chat_id: int = 1001,
        user_id: int | None = None,
        language_code: str | None = "ru",
        chat_type: str = "private",
        first_name: str = "Seller",
        username: str | None = None,
        chat_title: str | None = None,
        entities: list[JSON] | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        """Build (and record in the chat history) a message update, without enqueuing it.

        Use it to POST to the bot's webhook endpoint yourself.
        """
        body: JSON = {"text": text}
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        if entities:
            body["entities"] = entities
        if reply_to_message_id is not None:
            replied = self._find(chat_id, reply_to_message_id)
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat_id}")
            body["reply_to_message"] = copy.deepcopy(replied.message)
        kind, message = self._build_message(
            chat_id=chat_id,
            user_id=user_id,
            language_code=language_code,
            chat_type=chat_type,
            first_name=first_name,
            username=username,
            chat_title=chat_title,
            body=body,
        )
        return {"update_id": self._next_update_id(), kind: copy.deepcopy(message)}

    def user_says(
        self,
        text: str,
        *,
        chat_id: int = 1001,
        user_id: int | None = None,
        language_code: str | None = "ru",
        chat_type: str = "private",
        first_name: str = "Seller",
        username: str | None = None,
        chat_title: str | None = None,
        entities: list[JSON] | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """Enqueue a message from a user; returns its message_id (the bot may delete it)."""
        update = self.make_update_json(
            text,
            chat_id=chat_id,
            user_id=user_id,
            language_code=language_code,
            chat_type=chat_type,
            first_name=first_name,
            username=username,
            chat_title=chat_title,
            entities=entities,
            reply_to_message_id=reply_to_message_id,
        )
        self._enqueue(update)
        message = update.get("message") or update["channel_post"]
        return int(message["message_id"])

    def user_sends_document(
        self,
        filename: str,
        content: bytes,
        *,
        chat_id: int = 1001,
        caption: str | None = None,
        mime_type: str | None = None,
        user_id: int | None = None,
        language_code: str | None = "ru",
        first_name: str = "Seller",
    ) -> int:
        """Enqueue a document message; the bot can download it via getFile/bot.download."""
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        file_obj = self._register_file(
            UploadedFile(filename, content, mime), "document", with_path=True
        )
        body: JSON = {"document": file_obj}
        if caption is not None:
            body["caption"] = caption
        kind, message = self._build_message(
            chat_id=chat_id,
            user_id=user_id,
            language_code=language_code,
            chat_type="private" if chat_id > 0 else "supergroup",
            first_name=first_name,
            username=None,
            chat_title=None,
            body=body,
        )
        self._enqueue({"update_id": self._next_update_id(), kind: copy.deepcopy(message)})
        return int(message["message_id"])

    def edit_user_message(
        self, chat_id: int, message_id: int, text: str, *, entities: list[JSON] | None = None
    ) -> int:
        """Enqueue an edited_message update for a user's message; returns the update_id."""
        stored = self._find(chat_id, message_id)
        if stored is None or stored.from_bot:
            raise ValueError(f"no user message {message_id} in chat {chat_id}")
        stored.history.append(copy.deepcopy(stored.message))
        stored.message["text"] = text
        stored.message["edit_date"] = int(time.time())
        stored.message.pop("entities", None)
        if entities:
            stored.message["entities"] = entities
        kind = "edited_channel_post" if "sender_chat" in stored.message else "edited_message"
        update_id = self._next_update_id()
        self._enqueue({"update_id": update_id, kind: copy.deepcopy(stored.message)})
        return update_id

    def make_callback_update_json(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "ru",
        check: bool = True,
    ) -> JSON:
        """Build a callback_query update for a button of a bot message (not enqueued)."""
        stored = self._find(chat_id, message_id)
        if stored is None or not stored.from_bot:
            raise ValueError(f"no bot message {message_id} in chat {chat_id}")
        if check:
            available = _callback_datas(stored.message.get("reply_markup"))
            if data not in available:
                raise ValueError(
                    f"message {message_id} in chat {chat_id} has no button with "
                    f"callback_data={data!r}; available: {available}"
                )
        uid = self._user_for_chat(chat_id, user_id)
        query_id = f"{uid}{next(self._callback_ids):08d}"
        self._open_callbacks.add(query_id)
        return {
            "update_id": self._next_update_id(),
            "callback_query": {
                "id": query_id,
                "from": self._user(uid, language_code=language_code),
                "message": copy.deepcopy(stored.message),
                "chat_instance": str(abs(chat_id) * 7919 % 10**12),
                "data": data,
            },
        }

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "ru",
        check: bool = True,
    ) -> str:
        """Enqueue a callback_query for a bot message; returns the callback query id.

        With ``check`` (default) the message must carry an inline button with this data.
        """
        update = self.make_callback_update_json(
            chat_id,
            message_id,
            data,
            user_id=user_id,
            language_code=language_code,
            check=check,
        )
        self._enqueue(update)
        return str(update["callback_query"]["id"])

    def press_button_by_text(
        self, chat_id: int, message_id: int, text: str, *, user_id: int | None = None
    ) -> str:
        stored = self._find(chat_id, message_id)
        markup = stored.message.get("reply_markup") if stored else None
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == text and "callback_data" in button:
                    return self.press_button(
                        chat_id, message_id, button["callback_data"], user_id=user_id
                    )
        raise ValueError(f"no callback button {text!r} on message {message_id}")

    def add_update(self, update: JSON) -> int:
        """Enqueue any raw update; assigns update_id if missing.  Returns the update_id."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id()
        else:
            self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        for kind in ("message", "channel_post", "edited_message", "edited_channel_post"):
            message = update.get(kind)
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                chat_id = int(message["chat"]["id"])
                self._ensure_chat(chat_id, dict(message["chat"]))
                if kind in ("message", "channel_post") and "message_id" in message:
                    self._store(chat_id, copy.deepcopy(message), from_bot=False)
        self._enqueue(update)
        return int(update["update_id"])

    def _enqueue(self, update: JSON) -> None:
        self._updates.append(update)
        self._last_action_mark = len(self.calls)
        self._notifier.notify()

    # ------------------------------------------------------------------ waiting

    async def wait_until(self, cond: Callable[[], bool], timeout: float = 10) -> None:
        """Wait until ``cond()`` is true; re-checked on every request the fake handles."""
        if not await self._notifier.wait_for(cond, timeout):
            raise FakeTelegramTimeout(
                f"condition not met within {timeout}s; {self._recent_calls_summary()}"
            )

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10,
        since: int | None = None,
    ) -> ApiCall:
        """First call of ``method`` with index >= ``since`` matching ``predicate``.

        ``since`` defaults to the mark taken at the last simulated user action
        (user_says/press_button/...), or 0.
        """
        start = self._last_action_mark if since is None else since
        found: list[ApiCall] = []

        def cond() -> bool:
            for call in self.calls[start:]:
                if call.method.lower() == method.lower() and (predicate is None or predicate(call)):
                    found.append(call)
                    return True
            return False

        if not await self._notifier.wait_for(cond, timeout):
            raise FakeTelegramTimeout(
                f"no {method} call (since #{start}) within {timeout}s; "
                f"{self._recent_calls_summary()}"
            )
        return found[0]

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Predicate | str | re.Pattern[str] | None = None,
        timeout: float = 10,
        *,
        since: int | None = None,
        include_edits: bool = False,
    ) -> JSON:
        """First bot message in ``chat_id`` sent at/after call index ``since``.

        ``predicate`` is a callable taking the message dict (see ``sent_messages``), a
        substring of its text/caption, or a compiled regex searched in it.  ``since``
        defaults to the mark of the last simulated user action.  With ``include_edits``
        messages edited after ``since`` count too (their current version is returned).
        """
        start = self._last_action_mark if since is None else since
        check = _message_predicate(predicate)
        found: list[JSON] = []

        def cond() -> bool:
            state = self._chats.get(chat_id)
            if state is None:
                return False
            candidates = []
            for stored in state.messages.values():
                if not stored.from_bot:
                    continue
                if stored.call_index >= start:
                    candidates.append((stored.call_index, stored))
                elif include_edits:
                    later = [i for i in stored.edit_call_indexes if i >= start]
                    if later:
                        candidates.append((later[0], stored))
            for _, stored in sorted(candidates, key=lambda item: item[0]):
                exported = self._export(stored)
                if check(exported):
                    found.append(exported)
                    return True
            return False

        if not await self._notifier.wait_for(cond, timeout):
            raise FakeTelegramTimeout(
                f"no matching bot message in chat {chat_id} (since #{start}) within "
                f"{timeout}s; bot texts there: {self.texts(chat_id)!r}; "
                f"{self._recent_calls_summary()}"
            )
        return found[0]

    @property
    def polling(self) -> bool:
        """True while a getUpdates long poll is waiting on the server."""
        return self._active_polls > 0

    async def wait_polling(self, timeout: float = 10) -> None:
        """Wait until the bot has a getUpdates long poll in flight (polling has started).

        Not needed before ``user_says`` (updates queue up until fetched) -- but useful to
        know startup (getMe, setMyCommands, ...) is over.
        """
        await self.wait_until(lambda: self._active_polls > 0, timeout)

    async def wait_updates_consumed(self, timeout: float = 10) -> None:
        """Wait until the bot confirmed (via getUpdates offset) every enqueued update."""
        await self.wait_until(lambda: not self._updates, timeout)

    def _recent_calls_summary(self, count: int = 8) -> str:
        parts = []
        for call in self.calls[-count:]:
            status = "ok" if call.ok else f"{call.error_code} {call.description}"
            params = {k: v for k, v in call.params.items() if k != "reply_markup"}
            parts.append(f"#{call.index} {call.method}({params!r}) -> {status}")
        return "last calls: " + ("; ".join(parts) if parts else "none")

    # ------------------------------------------------------------------ API methods

    async def _true(self, method: str, params: JSON) -> Any:
        if "chat_id" in params:
            self._chat_key(params["chat_id"])
        return True

    async def _get_me(self, method: str, params: JSON) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if int(u["update_id"]) >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self) -> list[JSON]:
        allowed = set(self._allowed_updates) if self._allowed_updates else None
        kept = []
        for update in self._updates:
            kind = next((k for k in update if k != "update_id"), "")
            if (allowed is not None and kind not in allowed) or (
                allowed is None and kind in _DEFAULT_EXCLUDED_UPDATES
            ):
                self.dropped_updates.append(update)
            else:
                kept.append(update)
        self._updates = kept
        return kept

    async def _get_updates(self, method: str, params: JSON) -> Any:
        if self.webhook.get("url"):
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset", 0))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(float(params.get("timeout", 0)), 0.0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = [str(a) for a in allowed] if allowed else None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notifier.notify()  # terminates an older concurrent getUpdates (409)

        def ready() -> bool:
            return self._closing or generation != self._poll_generation or bool(self._deliverable())

        self._active_polls += 1
        self._notifier.notify()
        try:
            await self._notifier.wait_for(ready, timeout)
        finally:
            self._active_polls -= 1
        if self._closing:
            return []
        if generation != self._poll_generation:
            raise _ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only "
                "one bot instance is running",
            )
        return copy.deepcopy(self._deliverable()[:limit])

    async def _set_webhook(self, method: str, params: JSON) -> Any:
        url = params.get("url")
        if not url:
            self.webhook = {}
            return True
        if not str(url).startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {k: v for k, v in params.items() if k != "certificate"}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, method: str, params: JSON) -> Any:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, method: str, params: JSON) -> Any:
        info: JSON = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook.get("url"):
            info["max_connections"] = int(self.webhook.get("max_connections", 40))
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _message_base(self, chat_id: int, params: JSON) -> JSON:
        state = self._ensure_chat(chat_id)
        message: JSON = {
            "message_id": state.next_message_id,
            "from": dict(self.bot_user),
            "chat": dict(state.chat),
            "date": int(time.time()),
        }
        reply_to = params.get("reply_to_message_id")
        reply_parameters = params.get("reply_parameters")
        allow_without = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply_parameters, dict):
            reply_to = reply_parameters.get("message_id")
            allow_without = allow_without or bool(
                reply_parameters.get("allow_sending_without_reply")
            )
        if reply_to is not None:
            replied = self._find(chat_id, reply_to)
            if replied is not None:
                message["reply_to_message"] = copy.deepcopy(replied.message)
            elif not allow_without:
                raise _bad_request("message to be replied not found")
        markup = params.get("reply_markup")
        _validate_markup(markup)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        return message

    def _finish_send(self, chat_id: int, message: JSON, file: UploadedFile | None = None) -> JSON:
        self._store(chat_id, message, from_bot=True, file=file)
        self._send_log.append((time.monotonic(), chat_id))
        return copy.deepcopy(message)

    async def _send_message(self, method: str, params: JSON) -> Any:
        chat_id = self._chat_key(params.get("chat_id"))
        text, entities = _checked_text(params, "text", TEXT_LIMIT)
        message = self._message_base(chat_id, params)
        message["text"] = text
        if entities:
            message["entities"] = entities
        return self._finish_send(chat_id, message)

    def _register_file(self, uploaded: UploadedFile, kind: str, *, with_path: bool) -> JSON:
        number = next(self._file_seq)
        file_id = f"FAKE{kind.upper()}{number:06d}"
        self._files[file_id] = uploaded
        file_obj: JSON = {
            "file_id": file_id,
            "file_unique_id": f"U{number:06d}",
            "file_size": len(uploaded.content),
        }
        if kind != "photo":
            file_obj["file_name"] = uploaded.filename
            if uploaded.content_type:
                file_obj["mime_type"] = uploaded.content_type
        if with_path:
            self._file_paths[f"{kind}s/file_{number}{_suffix(uploaded.filename)}"] = file_id
        return file_obj

    async def _send_media(self, method: str, params: JSON) -> Any:
        chat_id = self._chat_key(params.get("chat_id"))
        kind = _MEDIA_METHODS[method]
        value = params.get(kind)
        uploaded: UploadedFile
        if isinstance(value, UploadedFile):
            if not value.content:
                raise _bad_request("file must be non-empty")
            if len(value.content) > UPLOAD_LIMIT:
                raise _ApiError(413, "Request Entity Too Large")
            mime = (
                value.content_type
                if value.content_type and value.content_type != "application/octet-stream"
                else mimetypes.guess_type(value.filename)[0]
            )
            uploaded = UploadedFile(value.filename, value.content, mime or value.content_type)
        elif isinstance(value, str) and value in self._files:
            uploaded = self._files[value]
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            uploaded = UploadedFile(value.rsplit("/", 1)[-1] or kind, b"")
        elif value is None:
            raise _bad_request(f"there is no {kind} in the request")
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        caption, caption_entities = _checked_text(
            params, "caption", CAPTION_LIMIT, required=False, too_long="message caption is too long"
        )
        message = self._message_base(chat_id, params)
        file_obj = self._register_file(uploaded, kind, with_path=True)
        if kind == "photo":
            message["photo"] = [{**file_obj, "width": 800, "height": 600}]
        else:
            message[kind] = file_obj
        if caption:
            message["caption"] = caption
            if caption_entities:
                message["caption_entities"] = caption_entities
        return self._finish_send(chat_id, message, file=uploaded)

    def _editable(self, params: JSON) -> tuple[int, _StoredMessage] | None:
        if params.get("inline_message_id"):
            return None
        chat_id = self._chat_key(params.get("chat_id"))
        stored = self._find(chat_id, params.get("message_id"))
        if stored is None:
            raise _bad_request("message to edit not found")
        if not stored.from_bot:
            raise _bad_request("message can't be edited")
        return chat_id, stored

    def _apply_edit(self, stored: _StoredMessage, changes: JSON, markup: Any) -> JSON:
        _validate_markup(markup)
        new_markup = (
            {"inline_keyboard": markup["inline_keyboard"]}
            if isinstance(markup, dict) and "inline_keyboard" in markup
            else None
        )
        current = {k: stored.message.get(k) for k in changes}
        if current == changes and stored.message.get("reply_markup") == new_markup:
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        stored.history.append(copy.deepcopy(stored.message))
        stored.edit_call_indexes.append(len(self.calls))
        for key, value in changes.items():
            if value is None:
                stored.message.pop(key, None)
            else:
                stored.message[key] = value
        if new_markup is None:
            stored.message.pop("reply_markup", None)
        else:
            stored.message["reply_markup"] = new_markup
        stored.message["edit_date"] = int(time.time())
        return copy.deepcopy(stored.message)

    async def _edit_message_text(self, method: str, params: JSON) -> Any:
        text, entities = _checked_text(params, "text", TEXT_LIMIT)
        target = self._editable(params)
        if target is None:
            return True
        _, stored = target
        if "text" not in stored.message:
            raise _bad_request("there is no text in the message to edit")
        changes = {"text": text, "entities": entities or None}
        return self._apply_edit(stored, changes, params.get("reply_markup"))

    async def _edit_message_caption(self, method: str, params: JSON) -> Any:
        caption, entities = _checked_text(
            params, "caption", CAPTION_LIMIT, required=False, too_long="message caption is too long"
        )
        target = self._editable(params)
        if target is None:
            return True
        _, stored = target
        if "text" in stored.message:
            raise _bad_request("there is no caption in the message to edit")
        changes = {"caption": caption or None, "caption_entities": entities or None}
        return self._apply_edit(stored, changes, params.get("reply_markup"))

    async def _edit_message_reply_markup(self, method: str, params: JSON) -> Any:
        target = self._editable(params)
        if target is None:
            return True
        _, stored = target
        return self._apply_edit(stored, {}, params.get("reply_markup"))

    def _delete_one(self, chat_id: int, message_id: Any) -> bool:
        stored = self._find(chat_id, message_id)
        if stored is None:
            return False
        stored.deleted = True
        return True

    async def _delete_message(self, method: str, params: JSON) -> Any:
        chat_id = self._chat_key(params.get("chat_id"))
        if not self._delete_one(chat_id, params.get("message_id")):
            raise _bad_request("message to delete not found")
        return True

    async def _delete_messages(self, method: str, params: JSON) -> Any:
        chat_id = self._chat_key(params.get("chat_id"))
        ids = params.get("message_ids") or []
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad_request("message_ids must be a list of 1-100 identifiers")
        for message_id in ids:
            self._delete_one(chat_id, message_id)
        return True

    async def _set_my_commands(self, method: str, params: JSON) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("commands must be a list of at most 100 commands")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            description = command.get("description", "") if isinstance(command, dict) else ""
            if not _COMMAND_RE.fullmatch(str(name).removeprefix("/")):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(description)) <= 256:
                raise _bad_request("command description is empty or too long")
        key = _commands_key(params.get("scope"), params.get("language_code"))
        if commands:
            self._commands[key] = [
                {"command": str(c["command"]).removeprefix("/"), "description": c["description"]}
                for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, method: str, params: JSON) -> Any:
        key = _commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    async def _delete_my_commands(self, method: str, params: JSON) -> Any:
        self._commands.pop(_commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    async def _answer_callback_query(self, method: str, params: JSON) -> Any:
        query_id = params.get("callback_query_id")
        if not isinstance(query_id, str) or query_id not in self._open_callbacks:
            raise _bad_request(QUERY_INVALID.removeprefix("Bad Request: "))
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = dict(params)
        return True

    async def _get_chat(self, method: str, params: JSON) -> Any:
        chat_id = self._chat_key(params.get("chat_id"))
        state = self._chats.get(chat_id)
        if state is None:
            raise _bad_request("chat not found")
        info: JSON = {
            **state.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if state.chat["type"] == "private" and state.chat["id"] in self._users:
            user = self._users[state.chat["id"]]
            info.setdefault("first_name", user["first_name"])
        return info

    async def _get_file(self, method: str, params: JSON) -> Any:
        file_id = params.get("file_id")
        if not isinstance(file_id, str) or file_id not in self._files:
            raise _bad_request("invalid file_id")
        path = next((p for p, f in self._file_paths.items() if f == file_id), None)
        uploaded = self._files[file_id]
        result: JSON = {
            "file_id": file_id,
            "file_unique_id": "U" + file_id[-6:],
            "file_size": len(uploaded.content),
        }
        if path is not None:
            result["file_path"] = path
        return result


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _decode_field(key: str, raw: str) -> Any:
    if key in _STRING_FIELDS or not raw:
        return raw
    if raw[0] in '{["-0123456789' or raw in ("true", "false", "null"):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _resolve_attachments(value: Any, files: Mapping[str, UploadedFile]) -> Any:
    if isinstance(value, str) and value.startswith("attach://"):
        return files.get(value.removeprefix("attach://"), value)
    if isinstance(value, list):
        return [_resolve_attachments(v, files) for v in value]
    if isinstance(value, dict):
        return {k: _resolve_attachments(v, files) for k, v in value.items()}
    return value


def _is_send_method(method: str) -> bool:
    lowered = method.lower()
    return (lowered.startswith("send") and lowered != "sendchataction") or lowered in (
        "copymessage",
        "copymessages",
        "forwardmessage",
        "forwardmessages",
    )


def _checked_text(
    params: JSON,
    key: str,
    limit: int,
    *,
    required: bool = True,
    too_long: str = "message is too long",
) -> tuple[str, list[JSON]]:
    raw = params.get(key)
    if raw is None or raw == "":
        if required:
            raise _bad_request("message text is empty")
        return "", []
    text, entities = parse_formatted_text(str(raw), params.get("parse_mode"))
    if required and not text.strip():
        raise _bad_request("message text is empty")
    if _utf16_len(text) > limit:
        raise _bad_request(too_long)
    explicit = params.get("entities" if key == "text" else "caption_entities")
    if isinstance(explicit, list) and not params.get("parse_mode"):
        entities = explicit
    return text, entities


def _validate_markup(markup: Any) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
            actions = [a for a in _INLINE_BUTTON_ACTIONS if a in button]
            if not actions:
                raise _bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = str(button["callback_data"])
                if not 1 <= len(data.encode("utf-8")) <= 64:
                    raise _bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                raise _bad_request(
                    f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
                )


def _callback_datas(markup: Any) -> list[str]:
    if not isinstance(markup, dict):
        return []
    return [
        str(button["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
    if isinstance(scope, str):
        scope = json.loads(scope)
    scope_json = json.dumps(scope or {"type": "default"}, sort_keys=True)
    return scope_json, str(language_code or "")


def _suffix(filename: str) -> str:
    match = re.search(r"\.[A-Za-z0-9]{1,8}$", filename)
    return match.group(0) if match else ""


def _message_predicate(
    predicate: Predicate | str | re.Pattern[str] | None,
) -> Predicate:
    if predicate is None:
        return lambda message: True
    if isinstance(predicate, str):
        needle = predicate
        return lambda message: needle in str(message.get("text", message.get("caption", "")))
    if isinstance(predicate, re.Pattern):
        pattern = predicate
        return lambda message: (
            pattern.search(str(message.get("text", message.get("caption", "")))) is not None
        )
    return predicate
