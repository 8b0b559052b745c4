"""The WB key, once handed over, appears nowhere: not in logs, messages, the database or FSM."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.e2e.harness import Harness, running_bot, small_seller
from tests.fakes.telegram import UploadedFile
from tests.fakes.wb import make_token

PIECE = 20


class Capture(logging.Handler):
    """Every record of every logger, fully formatted (tracebacks and all)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.args))


@pytest.fixture
def every_log() -> Iterator[Capture]:
    capture = Capture()
    root = logging.getLogger()
    levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(root_level)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _pieces(key: str) -> set[str]:
    return {key[i : i + PIECE] for i in range(len(key) - PIECE + 1)}


def _leaks(pieces: set[str], haystack: str | bytes) -> list[str]:
    if isinstance(haystack, bytes):
        return [p for p in pieces if p.encode() in haystack]
    return [p for p in pieces if p in haystack]


def _sent_by_bot(h: Harness) -> list[str]:
    """Every Bot API request the bot made, and what the fake answered (not incoming updates)."""
    out: list[str] = []
    for call in h.tg.calls:
        if call.method == "getUpdates":
            continue
        out.append(repr({k: v for k, v in call.params.items()}))
        out.append(repr(call.result))
        for value in call.params.values():
            if isinstance(value, UploadedFile):
                out.append(value.content.decode("latin-1"))
    return out


async def _database_text(h: Harness) -> list[str]:
    """Every row of every table as text (PostgreSQL too: bytea shows as hex)."""
    async with h.app.engine.connect() as conn:
        if h.app.engine.dialect.name == "postgresql":
            names = (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ).scalars()
            query = 'SELECT row_to_json(t)::text FROM "{}" t'
        else:
            names = (
                await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
            ).scalars()
            query = 'SELECT * FROM "{}"'
        rows: list[str] = []
        for name in list(names):
            rows.extend(repr(tuple(row)) for row in await conn.execute(text(query.format(name))))
    return rows


def _database_files(tmp_path: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(tmp_path.glob("stock_tracker.db*"))]


async def test_the_wb_key_is_nowhere_after_onboarding_and_a_full_sync(
    database_url: str, tmp_path: Path, every_log: Capture
) -> None:
    seller = small_seller()
    key = make_token(token_type=3, seller_id=seller.seller_id)
    pieces = _pieces(key)
    assert len(pieces) > 100
    assert _leaks(pieces, f"Bearer …{key[40:60]}…"), "the detector must see a 20-char piece"
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 1
        await h.reply_to("/start")
        # A bad key first (missing a category), then the real one as the next message.
        bad = make_token(token_type=3, seller_id=seller.seller_id, categories=(1, 4, 5))
        h.tg.user_says(f"/api_key {bad}")
        await h.wait_text(1001, "Ничего не сохранено")
        await h.reply_to("/api_key")
        fsm_waiting = repr(h.app.dispatcher.storage.storage)  # type: ignore[attr-defined]
        mark = h.tg.mark()
        h.tg.user_says(key)
        await h.wait_text(1001, "Ключ сохранён", since=mark)
        mark = h.tg.mark()
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация завершена", since=mark, timeout=60)
        await h.reply_to("/status")
        mark = h.tg.mark()
        h.tg.user_says("/export")
        await h.tg.wait_for_call("sendDocument", since=mark, timeout=30)
        fsm_after = repr(h.app.dispatcher.storage.storage)  # type: ignore[attr-defined]
        assert h.wb.requests, "the sync must have used the key"

        haystacks: dict[str, list[str | bytes]] = {
            "log": list(every_log.lines),
            "Bot API call": list(_sent_by_bot(h)),
            "database row": list(await _database_text(h)),
            "database file (open)": list(_database_files(tmp_path)),
            "FSM storage": [fsm_waiting, fsm_after],
        }
    haystacks["database file (closed)"] = list(_database_files(tmp_path))
    haystacks["log"] += every_log.lines

    assert len(every_log.lines) > 100, "DEBUG logging should have been captured"
    for where, items in haystacks.items():
        for item in items:
            leaked = _leaks(pieces, item)
            assert not leaked, f"a piece of the WB key is in a {where}: {sorted(leaked)[:3]}"
