"""Admin commands end to end: who may use them, what they show and change, and the action log.

The harness makes user 900 the only admin; an admin chat is the private chat 900.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import App
from core.notifier import Trigger
from core.scheduler import sync_job_id
from storage.models import AdminAction, HealthCheck, SyncLog, Tenant
from tests.conftest import BACKEND
from tests.e2e.direct import Direct, direct_app
from tests.e2e.harness import onboard, running_bot, small_seller
from tests.fakes.wb import make_token

ADMIN = 900
UNKNOWN_RU = "Не знаю такой команды. Список команд: /help"
UNKNOWN_EN = "I don't know that command. Commands: /help"
ADMIN_COMMANDS = (
    "/admin",
    "/tenants",
    "/tenant 1",
    "/pause 1",
    "/resume 1",
    "/force_sync 1",
    "/jobs",
    "/broadcast Всем привет",
)


async def add_tenants(app: App, count: int, **fields: Any) -> list[int]:
    """Sellers straight in the table (chat ids 20001, 20002, ...)."""
    async with app.sessions() as session:
        start = int(await session.scalar(select(Tenant.id).order_by(Tenant.id.desc())) or 0)
        rows = []
        for n in range(1, count + 1):
            chat_id = 20000 + start + n
            values: dict[str, Any] = {
                "chat_id": chat_id,
                "user_id": chat_id,
                "user_name": f"User {chat_id}",
                "seller_name": f"Shop {chat_id}",
            }
            values.update(fields)
            rows.append(Tenant(**values))
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows]


async def actions(app: App) -> list[tuple[int, str, str | None]]:
    async with app.sessions() as session:
        rows = (await session.execute(select(AdminAction).order_by(AdminAction.id))).scalars()
        return [(row.admin_id, row.action, row.target) for row in rows]


async def admin_says(d: Direct, text: str, language_code: str = "ru") -> list[str]:
    return await d.reply_to(text, chat_id=ADMIN, user_id=ADMIN, language_code=language_code)


async def test_non_admins_get_exactly_the_unknown_command_answer(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with direct_app(database_url, tmp_path, seller) as d:
        tenant = await d.onboard(seller, chat_id=1001)
        assert await d.reply_to("/no_such_command", chat_id=1001) == [UNKNOWN_RU]
        mark = d.tg.mark()
        for command in ADMIN_COMMANDS:
            assert await d.reply_to(command, chat_id=1001) == [UNKNOWN_RU], command
            assert await d.reply_to(command, chat_id=1002, language_code="en") == [UNKNOWN_EN]
            # Even an admin gets nothing in a group: other members would see seller data.
            update = d.tg.make_update_json(
                command, chat_id=-100777, user_id=ADMIN, chat_type="group", chat_title="Team"
            )
            await d.feed(update)
            assert d.texts_since(mark, -100777)[-1] == UNKNOWN_RU
        # Nothing else was sent anywhere, nothing changed, nothing was logged.
        sent = [c for c in d.tg.calls[mark:] if c.method in ("sendMessage", "editMessageText")]
        assert {str(c.params["text"]) for c in sent} == {UNKNOWN_RU, UNKNOWN_EN}
        assert await actions(d.app) == []
        refreshed = await d.tenant(1001)
        assert not refreshed.is_paused and refreshed.id == tenant.id
        async with d.app.sessions() as session:
            assert list((await session.execute(select(SyncLog))).scalars()) == []


async def test_overview_shows_counts_backend_version_health_and_recent_actions(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 1
        tenant_id = await onboard(h, seller)
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        soon = datetime.now(UTC) + timedelta(days=3)
        await add_tenants(h.app, 2, wb_key_encrypted=h.app.vault.encrypt("k"), key_expires_at=soon)
        await add_tenants(h.app, 1, is_active=False)
        async with h.app.sessions() as session:
            session.add(
                HealthCheck(
                    checked_at=datetime.now(UTC) + timedelta(hours=1),  # newer than any real one
                    ok=False,
                    details={"database": True, "scheduler": True, "polling": False},
                )
            )
            await session.commit()
        assert "на паузе" in await h.reply_to(f"/pause {tenant_id}", chat_id=ADMIN)

        text = await h.reply_to("/admin", chat_id=ADMIN)
        assert "Продавцов: 4 (активных 3, на паузе 1, с ключом 3)" in text
        assert "Ключей, истекающих в ближайшие 7 дней: 2" in text
        syncs = "Синхронизаций за 24 ч: успешных 1, неудачных 0; идёт сейчас: 0, в очереди: 0"
        assert syncs in text
        backend = "PostgreSQL" if BACKEND == "postgres" else "SQLite"
        assert f"База данных: {backend}" in text
        assert "Версия: 0.1.0, работает: 0 ч 0 мин" in text
        assert "Ближайшие запуски по расписанию:" in text
        assert "maintenance:health-check" in text
        assert "Последняя проверка здоровья:" in text and "проблемы: polling" in text
        assert f"{ADMIN}: пауза {tenant_id}" in text
        assert (ADMIN, "overview", None) in await actions(h.app)

        english = await h.reply_to("/admin", chat_id=ADMIN, language_code="en")
        assert "Service overview" in english and "Sellers: 4 (active 3, paused 1" in english
        assert f"{ADMIN}: pause {tenant_id}" in english


async def test_tenants_are_listed_in_pages_with_next_and_previous_buttons(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(database_url, tmp_path, small_seller()) as d:
        ids = await add_tenants(d.app, 23)
        await add_tenants(d.app, 1, is_paused=True)
        [first] = await admin_says(d, "/tenants")
        assert first.startswith("Продавцов: 24 (страница 1 из 3)")
        assert (
            f"#{ids[0]} · чат {20000 + ids[0]} · Shop {20000 + ids[0]} · синхронизаций не было"
            in first
        )
        assert f"#{ids[10]} ·" not in first
        message = d.tg.last_message(ADMIN)
        buttons = message["reply_markup"]["inline_keyboard"][0]
        assert [b["text"] for b in buttons] == ["Дальше »"]
        assert all(len(b["callback_data"].encode()) < 64 for b in buttons)

        message_id = message["message_id"]
        await d.feed(d.tg.make_callback_update_json(ADMIN, message_id, "adm:tp:1"))
        middle = d.tg.last_message(ADMIN)
        assert middle["message_id"] == message_id  # the same message, edited
        assert middle["text"].startswith("Продавцов: 24 (страница 2 из 3)")
        assert f"#{ids[10]} ·" in middle["text"] and f"#{ids[0]} ·" not in middle["text"]
        assert [b["text"] for b in middle["reply_markup"]["inline_keyboard"][0]] == [
            "« Назад",
            "Дальше »",
        ]

        await d.feed(d.tg.make_callback_update_json(ADMIN, message_id, "adm:tp:2"))
        last = d.tg.last_message(ADMIN)
        assert last["text"].startswith("Продавцов: 24 (страница 3 из 3)")
        assert "[на паузе, нет ключа]" in last["text"]
        assert [b["text"] for b in last["reply_markup"]["inline_keyboard"][0]] == ["« Назад"]

        await d.feed(d.tg.make_callback_update_json(ADMIN, message_id, "adm:tp:1"))
        assert d.tg.last_message(ADMIN)["text"].startswith("Продавцов: 24 (страница 2 из 3)")


async def test_tampered_or_stale_buttons_get_a_polite_answer(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(database_url, tmp_path, small_seller()) as d:
        await add_tenants(d.app, 3)
        await admin_says(d, "/tenants")
        message_id = d.tg.last_message(ADMIN)["message_id"]
        bad = ("adm:tp:abc", "adm:tp:-1", "adm:tp:" + "9" * 40, "adm:bc:y:x", "adm:bc:q:1")
        for data in bad:
            mark = d.tg.mark()
            update = d.tg.make_callback_update_json(ADMIN, message_id, data, check=False)
            await d.feed(update)
            answer = d.tg.callback_answers[update["callback_query"]["id"]]
            assert answer.get("text") == "Эта кнопка устарела. Вызовите команду ещё раз.", data
            assert d.texts_since(mark) == []
        assert await actions(d.app) == [(ADMIN, "tenants", None)]
        # A page far past the end shows the last page.
        update = d.tg.make_callback_update_json(ADMIN, message_id, "adm:tp:999", check=False)
        await d.feed(update)
        assert d.tg.last_message(ADMIN)["text"].startswith("Продавцов: 3 (страница 1 из 1)")
        # A non-admin pressing an admin button gets what any unknown button gets, and no data.
        await d.reply_to("/start", chat_id=1001)
        own = d.tg.last_message(1001)["message_id"]
        answers = []
        for data in ("adm:tp:0", "no-such-button"):
            mark = d.tg.mark()
            update = d.tg.make_callback_update_json(1001, own, data, check=False)
            await d.feed(update)
            assert d.texts_since(mark) == []
            answers.append(d.tg.callback_answers.get(update["callback_query"]["id"], {}))
        assert answers[0] == {**answers[1], "callback_query_id": answers[0]["callback_query_id"]}


async def test_tenant_details_show_key_facts_and_sync_errors_but_never_the_key(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with direct_app(database_url, tmp_path, seller) as d:
        d.wb.remains_polls_until_done = 1
        tenant = await d.onboard(seller, chat_id=1001)
        await d.app.syncs.run(tenant.id, Trigger.MANUAL)
        d.wb.fail_next("cards_list", 401)
        await d.app.syncs.run(tenant.id, Trigger.MANUAL)
        [text] = await admin_says(d, f"/tenant {tenant.id}")
        assert text.startswith(f"Продавец №{tenant.id}: ")
        assert f"Ключ: отпечаток {tenant.key_fingerprint}, персональный" in text
        assert "Контент" in text and "Статистика" in text and "действует до" in text
        assert "вручную, успешно" in text
        assert "вручную, ошибка" in text and "key_rejected" in text
        assert "Расписание:" in text
        key = make_token(token_type=3, seller_id=seller.seller_id, user_id=1001)
        for part in key.split("."):
            assert part not in text
        assert d.app.vault.decrypt(tenant.wb_key_encrypted or b"") not in text
        assert (ADMIN, "tenant", str(tenant.id)) in await actions(d.app)

        for bad in ("/tenant", "/tenant abc", "/tenant -3", "/tenant 1.5", "/tenant 0"):
            assert await admin_says(d, bad) == [
                "Формат: /tenant <номер> — номер продавца из /tenants."
            ], bad
        assert await admin_says(d, "/tenant 4242") == ["Продавца №4242 нет. Список: /tenants."]
        assert await admin_says(d, "/pause nope", "en") == [
            "Usage: /pause <id> — the seller's number from /tenants."
        ]


async def test_pause_and_resume_stop_and_restart_syncs_and_tell_the_seller(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller, chat_id=1002)
        h.tg.user_says("/start", chat_id=1002, language_code="en")  # an English-speaking seller
        await h.wait_text(1002, "Welcome back")
        assert h.app.scheduler.get_job(sync_job_id(tenant_id)) is not None

        mark = h.tg.mark()
        reply = await h.reply_to(f"/pause {tenant_id}", chat_id=ADMIN)
        assert reply == (
            f"Продавец №{tenant_id} на паузе: синхронизации по расписанию и вручную не "
            f"запускаются до /resume {tenant_id}.\nПродавцу отправлено уведомление."
        )
        told = await h.wait_text(1002, "paused", since=mark)
        assert told.startswith("An administrator has paused the refreshes")
        assert h.app.scheduler.get_job(sync_job_id(tenant_id)) is None
        assert "paused by an administrator" in await h.reply_to(
            "/sync", chat_id=1002, language_code="en"
        )
        assert await h.reply_to(f"/pause {tenant_id}", chat_id=ADMIN) == (
            f"Продавец №{tenant_id} уже на паузе."
        )

        mark = h.tg.mark()
        reply = await h.reply_to(f"/resume {tenant_id}", chat_id=ADMIN)
        assert reply.startswith(f"Продавец №{tenant_id} снят с паузы")
        assert "running again" in await h.wait_text(1002, "running again", since=mark)
        assert h.app.scheduler.get_job(sync_job_id(tenant_id)) is not None
        assert await h.reply_to(f"/resume {tenant_id}", chat_id=ADMIN) == (
            f"Продавец №{tenant_id} не на паузе."
        )
        assert (
            await h.reply_to("/pause 777", chat_id=ADMIN) == "Продавца №777 нет. Список: /tenants."
        )
        logged = await actions(h.app)
        assert (ADMIN, "pause", str(tenant_id)) in logged
        assert (ADMIN, "resume", str(tenant_id)) in logged
        assert logged.count((ADMIN, "pause", str(tenant_id))) == 1  # "already" changes nothing


async def test_force_sync_runs_a_sync_now_even_for_a_paused_seller(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with direct_app(database_url, tmp_path, seller) as d:
        d.wb.remains_polls_until_done = 1
        tenant = await d.onboard(seller, chat_id=1001)
        [no_key] = await add_tenants(d.app, 1)
        await admin_says(d, f"/pause {tenant.id}")
        mark = d.tg.mark()
        assert await admin_says(d, f"/force_sync {tenant.id}") == [
            f"Синхронизация продавца №{tenant.id} запущена; продавец видит её ход."
        ]
        assert await d.app.syncs.wait_idle(timeout=60)
        assert any("Синхронизация завершена" in t for t in d.texts_since(mark, 1001))
        async with d.app.sessions() as session:
            [log] = (await session.execute(select(SyncLog))).scalars()
        assert (log.trigger, log.status) == ("admin", "completed")
        assert await admin_says(d, f"/force_sync {no_key}") == [
            f"У продавца №{no_key} нет ключа WB: синхронизировать нечего."
        ]
        assert await admin_says(d, "/force_sync 999") == ["Продавца №999 нет. Список: /tenants."]
        assert await admin_says(d, "/force_sync") == [
            "Формат: /force_sync <номер> — номер продавца из /tenants."
        ]
        assert (ADMIN, "force_sync", str(tenant.id)) in await actions(d.app)


async def test_jobs_lists_next_runs_and_a_standby_process_says_it_runs_none(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    keys = "Xw4_bB3J7e1wq0s8n8x7B6rP1xQm2oYv3kQyZ0mV0cU="
    async with running_bot(database_url, tmp_path, seller, encryption_keys=keys) as h:
        tenant_id = await onboard(h, seller)
        text = await h.reply_to("/jobs", chat_id=ADMIN)
        assert text.startswith("Задания в расписании (4):")
        assert f"tenant-sync:{tenant_id}" in text and "maintenance:cleanup-sync-logs" in text
        # A second process on the same database stands by: it runs no scheduler.
        async with running_bot(database_url, tmp_path, seller, encryption_keys=keys) as other:
            assert await other.reply_to("/jobs", chat_id=ADMIN) == (
                "Планировщик в этом процессе не запущен."
            )
            overview = await other.reply_to("/admin", chat_id=ADMIN)
            assert "Планировщик в этом процессе не запущен." in overview
        assert (ADMIN, "jobs", None) in await actions(h.app)


async def _broadcast_message(d: Direct, text: str) -> dict[str, Any]:
    """Ask for a broadcast; returns the confirmation message with its yes/no buttons."""
    [confirm] = await admin_says(d, f"/broadcast {text}")
    message = d.tg.last_message(ADMIN)
    assert message["text"] == confirm
    return message


def _button(message: dict[str, Any], label: str) -> str:
    for button in message["reply_markup"]["inline_keyboard"][0]:
        if button["text"] == label:
            return str(button["callback_data"])
    raise AssertionError(f"no {label!r} button")


async def _final_report(d: Direct, message_id: int) -> str:
    def done() -> bool:
        text = str(d.tg.last_message(ADMIN).get("text", ""))
        return text.startswith("Рассылка завершена")

    await d.tg.wait_until(done, timeout=30)
    message = d.tg.last_message(ADMIN)
    assert message["message_id"] == message_id
    return str(message["text"])


async def test_broadcast_asks_first_and_cancel_sends_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(database_url, tmp_path, small_seller()) as d:
        await add_tenants(d.app, 3)
        await add_tenants(d.app, 1, is_active=False)
        assert await admin_says(d, "/broadcast") == [
            "Формат: /broadcast <текст> — после подтверждения текст получат все активные продавцы."
        ]
        message = await _broadcast_message(d, "Плановые работы\nв 03:00")
        assert message["text"] == (
            "Отправить это сообщение 3 активным продавцам?\n\nПлановые работы\nв 03:00"
        )
        mark = d.tg.mark()
        await d.feed(
            d.tg.make_callback_update_json(ADMIN, message["message_id"], _button(message, "Отмена"))
        )
        assert d.tg.last_message(ADMIN)["text"] == "Рассылка отменена: ничего не отправлено."
        # The old "send" button no longer sends anything.
        update = d.tg.make_callback_update_json(
            ADMIN, message["message_id"], _button(message, "Отправить"), check=False
        )
        await d.feed(update)
        answer = d.tg.callback_answers[update["callback_query"]["id"]]
        assert answer["text"] == "Эта рассылка уже отправлена или отменена."
        assert d.tg.calls_to("sendMessage", since=mark) == []
        logged = [action for _admin, action, _target in await actions(d.app)]
        assert logged == ["broadcast_draft", "broadcast_cancelled"]


async def test_broadcast_waits_out_429_and_marks_blocked_chats_inactive(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(database_url, tmp_path, small_seller()) as d:
        ids = await add_tenants(d.app, 4)
        [inactive] = await add_tenants(d.app, 1, is_active=False)
        chats = {tenant_id: 20000 + tenant_id for tenant_id in [*ids, inactive]}
        blocked = ids[2]
        d.tg.block_chat(chats[blocked])
        message = await _broadcast_message(d, "Новая функция: /export")
        assert message["text"].startswith("Отправить это сообщение 4 активным продавцам?")
        # Telegram's flood control answers the first delivery with 429, retry after 1 s.
        d.tg.fail_next("sendMessage", error_code=429, retry_after=1)
        mark = d.tg.mark()
        yes = _button(message, "Отправить")
        await d.feed(d.tg.make_callback_update_json(ADMIN, message["message_id"], yes))
        # Pressed twice: the second press sends nothing more.
        again = d.tg.make_callback_update_json(ADMIN, message["message_id"], yes, check=False)
        await d.feed(again)
        assert (
            d.tg.callback_answers[again["callback_query"]["id"]]["text"]
            == "Эта рассылка уже отправлена или отменена."
        )
        report = await _final_report(d, message["message_id"])
        assert report == (
            "Рассылка завершена: доставлено 3, не доставлено 1 из 4.\n"
            "Заблокировали бота (теперь неактивны): 1."
        )
        for tenant_id in ids:
            expected = [] if tenant_id == blocked else ["Новая функция: /export"]
            assert d.tg.texts(chats[tenant_id]) == expected
        assert d.tg.texts(chats[inactive]) == []
        sends = d.tg.calls_to("sendMessage", since=mark)
        first, retry = sends[0], sends[1]
        assert (first.ok, first.error_code, retry.ok) == (False, 429, True)
        assert first.chat_id == retry.chat_id and retry.at - first.at >= 1.0
        async with d.app.sessions() as session:
            states = {t.id: t.is_active for t in (await session.execute(select(Tenant))).scalars()}
        assert states == {**{i: i != blocked for i in ids}, inactive: False}
        [entry] = [a for a in await actions(d.app) if a[1] == "broadcast"]
        assert entry[2] is not None and entry[2].startswith("draft:")
        async with d.app.sessions() as session:
            details = await session.scalar(
                select(AdminAction.details).where(AdminAction.action == "broadcast")
            )
        assert details == "delivered=3 failed=1 blocked=1"
        # The overview lists it among the recent actions.
        [overview] = await admin_says(d, "/admin")
        assert f"{ADMIN}: рассылка draft:" in overview


async def test_broadcast_keeps_within_per_chat_and_overall_limits(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(database_url, tmp_path, small_seller()) as d:
        await add_tenants(d.app, 40)
        d.tg.set_rate_limit(per_chat=1, overall=30, window=1.0)
        message = await _broadcast_message(d, "Hello")
        mark = d.tg.mark()
        yes = _button(message, "Отправить")
        await d.feed(d.tg.make_callback_update_json(ADMIN, message["message_id"], yes))
        report = await _final_report(d, message["message_id"])
        assert report == "Рассылка завершена: доставлено 40, не доставлено 0 из 40."
        assert all(call.ok for call in d.tg.calls_to("sendMessage", since=mark))
        # Progress was shown by editing the confirmation message while it ran.
        edits = [
            str(c.params["text"])
            for c in d.tg.calls_to("editMessageText", since=mark)
            if c.ok and str(c.params.get("chat_id")) == str(ADMIN)
        ]
        assert edits[0].startswith("Отправляю… 0 из 40")
        assert edits[-1] == report
