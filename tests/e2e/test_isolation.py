"""Tenant isolation: nothing seller A can send (any command, any argument, any button data)
reveals or changes seller B's data, or makes the bot write to B."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.notifier import Trigger
from storage.models import AdminAction
from tests.e2e.db_dump import dump_rows
from tests.e2e.direct import Direct, LoopApp
from tests.e2e.harness import small_seller
from tests.e2e.test_hostile_input import COMMANDS, telegram_clean
from tests.fakes.telegram import UploadedFile
from tests.fakes.wb_data import SellerData

A_CHAT, B_CHAT, ADMIN = 1001, 2002, 900
CALLBACK_PREFIXES = ("sched:", "adm:tp:", "adm:bc:y:", "adm:bc:n:", "")


@dataclass
class World:
    runner: LoopApp
    d: Direct
    a_id: int
    b_id: int
    draft_id: int
    b_secrets: tuple[str, ...]


def _secrets_of(seller: SellerData, fingerprint: str, name: str) -> tuple[str, ...]:
    articles = tuple(card["vendorCode"] for card in seller.cards)
    nm_ids = tuple(str(card["nmID"]) for card in seller.cards)
    return (seller.seller_id, fingerprint, name, *articles, *nm_ids)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    seller_a, seller_b = small_seller(seed=7), small_seller(seed=8)
    runner = LoopApp()
    try:
        d = runner.start(
            database_url,
            tmp_path,
            [seller_a, seller_b],
            throttle_messages=0,
            admin_ids=str(ADMIN),
            wb_rate_limits=False,
        )
        d.wb.limits_enabled = False
        d.wb.remains_polls_until_done = 1

        async def setup() -> World:
            await d.says("/start", chat_id=B_CHAT, user_id=B_CHAT, first_name="Борис Б.")
            tenant_a = await d.onboard(seller_a, chat_id=A_CHAT)
            tenant_b = await d.onboard(seller_b, chat_id=B_CHAT)
            for tenant_id in (tenant_a.id, tenant_b.id):
                result = await d.app.syncs.run(tenant_id, Trigger.MANUAL)
                assert result is not None
            await d.says("/broadcast Плановые работы", chat_id=ADMIN, user_id=ADMIN)
            async with d.app.sessions() as session:
                draft = await session.scalar(select(AdminAction).order_by(AdminAction.id.desc()))
            assert draft is not None
            secrets = _secrets_of(seller_b, tenant_b.key_fingerprint or "?", "Борис Б.")
            return World(runner, d, tenant_a.id, tenant_b.id, draft.id, secrets)

        yield runner.run(setup())
    finally:
        runner.close()


def _message_texts(world: World) -> st.SearchStrategy[str]:
    b_values = (str(world.b_id), str(B_CHAT), world.b_secrets[0], world.b_secrets[3], "2")
    argument = st.one_of(
        st.sampled_from(b_values),
        st.integers(min_value=-5, max_value=10).map(str),
        st.text(max_size=30),
    )
    return st.builds(
        lambda name, args: telegram_clean(f"/{name} {' '.join(args)}".strip()),
        st.sampled_from(COMMANDS),
        st.lists(argument, max_size=3),
    )


def _callback_data(world: World) -> st.SearchStrategy[str]:
    suffix = st.one_of(
        st.sampled_from(
            (str(world.b_id), str(world.a_id), str(world.draft_id), "0", "hourly", "off")
        ),
        st.integers(min_value=-3, max_value=50).map(str),
        st.text(max_size=20),
    )
    return st.builds(lambda p, s: (p + s)[:64] or "x", st.sampled_from(CALLBACK_PREFIXES), suffix)


def _steps(world: World) -> st.SearchStrategy[tuple[str, str, str]]:
    """(kind, chat, payload): A's commands in its private chat or a group, and button presses."""
    return st.one_of(
        st.tuples(st.just("say"), st.sampled_from(("private", "group")), _message_texts(world)),
        st.tuples(st.just("press"), st.just("private"), _callback_data(world)),
    )


def _feed_step(world: World, kind: str, chat: str, payload: str) -> str:
    """Feed one step; returns what A typed or pressed (A may repeat B's ids itself)."""
    d = world.d
    if kind == "say":
        if chat == "private":
            update = d.tg.make_update_json(payload, chat_id=A_CHAT, user_id=A_CHAT)
        else:
            update = d.tg.make_update_json(
                payload, chat_id=-5001, user_id=A_CHAT, chat_type="group"
            )
    else:
        own = [m for m in d.tg.sent_messages(A_CHAT) if not m["_deleted"]]
        update = d.tg.make_callback_update_json(
            A_CHAT, own[-1]["message_id"], payload, user_id=A_CHAT, check=False
        )
    world.runner.run(d.feed(update))
    world.runner.run(d.app.syncs.wait_idle(timeout=60))
    return payload


def _xlsx_text(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def _bot_output_since(d: Direct, mark: int) -> list[tuple[Any, str]]:
    """(chat, everything the bot showed there): texts, captions, button answers, files."""
    out: list[tuple[Any, str]] = []
    for call in d.tg.calls[mark:]:
        if call.method in ("getUpdates", "getMe"):
            continue
        texts = [str(call.params.get(k, "")) for k in ("text", "caption")]
        document = call.params.get("document")
        if isinstance(document, UploadedFile):
            texts.append(_xlsx_text(document.content))
        out.append((call.params.get("chat_id"), "\n".join(texts)))
    return out


def test_nothing_a_sends_reveals_or_changes_bs_data(world: World) -> None:
    d = world.d
    b_rows = world.runner.run(dump_rows(d.app.sessions, world.b_id))
    assert b_rows["snapshot_rows"] and b_rows["orders"], "B must have data worth protecting"
    # The check sees a leak when there is one: B's own export holds B's articles.
    mark = d.tg.mark()
    world.runner.run(d.says("/export", chat_id=B_CHAT, user_id=B_CHAT))
    [(_, b_export)] = [item for item in _bot_output_since(d, mark) if "ART-8-" in item[1]]
    assert sum(secret in b_export for secret in world.b_secrets) > 10

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(_steps(world), min_size=1, max_size=4))
    def a_tries(steps: list[tuple[str, str, str]]) -> None:
        mark = d.tg.mark()
        typed = [_feed_step(world, kind, chat, payload) for kind, chat, payload in steps]
        output = _bot_output_since(d, mark)
        assert all(str(chat) != str(B_CHAT) for chat, _ in output), "the bot wrote to B"
        for chat, text in output:
            for secret in world.b_secrets:
                if secret in text and not any(secret in t for t in typed):
                    raise AssertionError(f"B's {secret!r} shown in chat {chat}: {text[:200]!r}")
        assert world.runner.run(dump_rows(d.app.sessions, world.b_id)) == b_rows

    a_tries()
