"""A seller onboards: /start, /help, /api_key with good and bad keys, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from storage.models import Tenant
from tests.e2e.harness import onboard, running_bot, small_seller
from tests.fakes.wb import make_token


async def _tenants(harness: object) -> list[Tenant]:
    async with harness.app.sessions() as session:  # type: ignore[attr-defined]
        return list((await session.execute(select(Tenant))).scalars())


async def test_start_registers_once_and_explains_next_step(
    database_url: str, tmp_path: Path
) -> None:
    async with running_bot(database_url, tmp_path, small_seller()) as h:
        first = await h.reply_to("/start")
        assert "/api_key" in first and "Контент" in first
        again = await h.reply_to("/start")
        assert "С возвращением" in again
        assert len(await _tenants(h)) == 1
        help_text = await h.reply_to("/help")
        for command in ("/api_key", "/sync", "/status", "/schedule", "/export"):
            assert command in help_text


async def test_texts_are_english_for_english_users(database_url: str, tmp_path: Path) -> None:
    async with running_bot(database_url, tmp_path, small_seller()) as h:
        text = await h.reply_to("/start", language_code="en")
        assert text.startswith("Hello!")
        unknown = await h.reply_to("/nonsense", language_code="en-GB")
        assert "I don't know that command" in unknown


async def test_command_menu_set_in_both_languages(database_url: str, tmp_path: Path) -> None:
    async with running_bot(database_url, tmp_path, small_seller()) as h:
        await h.tg.wait_until(lambda: len(h.tg.calls_to("setMyCommands")) >= 2, timeout=5)
        langs = {c.params.get("language_code") for c in h.tg.calls_to("setMyCommands")}
        assert langs == {None, "en"}
        commands = h.tg.calls_to("setMyCommands")[0].params["commands"]
        assert {c["command"] for c in commands} >= {"start", "help", "api_key", "sync", "status"}


async def test_good_key_is_stored_encrypted_and_its_message_deleted(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    key = make_token(token_type=1, seller_id=seller.seller_id)
    async with running_bot(database_url, tmp_path, seller) as h:
        await h.reply_to("/start")
        mark = h.tg.mark()
        key_message_id = h.tg.user_says(f"/api_key {key}")
        text = await h.wait_text(1001, "Ключ сохранён", since=mark)
        assert key_message_id in h.tg.deleted(1001)
        assert "базовый" in text and "Контент" in text and "Статистика" in text
        assert "раз в 3 часа" in text  # what a Base token's limits mean for freshness
        assert key not in text
        # Each needed host pinged once.
        assert h.wb.calls("ping") == 4
        [tenant] = await _tenants(h)
        assert tenant.wb_key_encrypted is not None
        assert key.encode() not in tenant.wb_key_encrypted
        assert h.app.vault.decrypt(tenant.wb_key_encrypted) == key
        assert tenant.token_type == 1


async def test_key_asked_for_then_taken_from_the_next_message(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    key = make_token(token_type=3, seller_id=seller.seller_id)
    async with running_bot(database_url, tmp_path, seller) as h:
        ask = await h.reply_to("/api_key")
        assert "следующим сообщением" in ask
        key_message_id = h.tg.user_says(key)
        text = await h.wait_text(1001, "Ключ сохранён")
        assert "персональный" in text
        assert key_message_id in h.tg.deleted(1001)


async def test_bad_keys_get_specific_messages_and_nothing_is_stored(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    expired = make_token(
        seller_id=seller.seller_id, expires_at=datetime.now(UTC) - timedelta(days=1)
    )
    no_analytics = make_token(seller_id=seller.seller_id, categories=(1, 4, 5))
    unknown_seller = make_token(seller_id="00000000-dead-beef-0000-000000000000")
    async with running_bot(database_url, tmp_path, seller) as h:
        await h.reply_to("/start")
        cases = [
            ("not-a-key-at-all", "не похоже на API-ключ"),
            (expired, "истёк"),
            (no_analytics, "Аналитика"),
            (unknown_seller, "WB отклонил ключ"),
        ]
        for key, expected in cases:
            mark = h.tg.mark()
            message_id = h.tg.user_says(f"/api_key {key}")
            text = await h.wait_text(1001, expected, since=mark)
            assert "Ничего не сохранено" in text
            assert message_id in h.tg.deleted(1001)
        [tenant] = await _tenants(h)
        assert tenant.wb_key_encrypted is None


async def test_replacing_a_key_works(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    first = make_token(token_type=1, seller_id=seller.seller_id)
    second = make_token(token_type=3, seller_id=seller.seller_id, user_id=777)
    async with running_bot(database_url, tmp_path, seller) as h:
        h.tg.user_says(f"/api_key {first}")
        await h.wait_text(1001, "Ключ сохранён")
        h.wb.limits_enabled = False  # the second check pings the same hosts again at once
        h.tg.user_says(f"/api_key {second}")
        await h.wait_text(1001, "Ключ заменён")
        [tenant] = await _tenants(h)
        assert h.app.vault.decrypt(tenant.wb_key_encrypted or b"") == second
        assert tenant.token_type == 3


async def test_api_key_in_a_group_is_refused(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    key = make_token(seller_id=seller.seller_id)
    async with running_bot(database_url, tmp_path, seller) as h:
        text = await h.reply_to(f"/api_key {key}", chat_id=-100500, user_id=42, chat_type="group")
        assert "только в личном чате" in text
        assert await _tenants(h) == []


async def test_command_menu_failure_is_logged_not_fatal(database_url: str, tmp_path: Path) -> None:
    import contextlib

    from tests.e2e.harness import BOT_TOKEN, _app
    from tests.fakes.telegram import FakeTelegram
    from tests.fakes.wb import FakeWB

    seller = small_seller()
    async with contextlib.AsyncExitStack() as stack:
        tg = await stack.enter_async_context(FakeTelegram(token=BOT_TOKEN))
        wb = await stack.enter_async_context(FakeWB(seller))
        tg.fail_next("setMyCommands", error_code=500, description="Internal Server Error", times=2)
        async with _app(database_url, tmp_path, tg, wb, {}) as h:
            assert "/api_key" in await h.reply_to("/start")
            failed = [c for c in tg.calls_to("setMyCommands") if not c.ok]
            assert len(failed) == 2


async def test_a_seller_who_switches_language_is_answered_and_notified_in_it(
    database_url: str, tmp_path: Path
) -> None:
    """The chat's tenant is looked up on every update (in place on SQLite); a new language
    is stored at once, so scheduled messages follow it too."""
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller)
        assert "Синхронизаций ещё не было" in await h.reply_to("/status")
        assert "No syncs yet" in await h.reply_to("/status", language_code="en")
        async with h.app.sessions() as session:
            tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None and tenant.language == "en"
        assert "No syncs yet" in await h.reply_to("/status", language_code="en")
