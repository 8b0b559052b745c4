"""Broadcast delivery within Telegram's limits, against the Bot API fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.broadcast import BroadcastProgress, Recipient, SendPacer, deliver
from tests.fakes.telegram import FakeTelegram

TOKEN = "123456:TEST"


class FakeTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.url)))
    yield bot
    await bot.session.close()


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_pacer_spaces_sends_overall_and_per_chat() -> None:
    time = FakeTime()
    pacer = SendPacer(per_second=25, chat_interval=1.0, clock=time.clock, sleep=time.sleep)
    moments = []
    for chat_id in range(50):
        await pacer.wait(chat_id)
        moments.append(time.now)
    assert _max_in_window(moments, 1.0) == 25
    # The same chat twice: a second apart, however idle the bot is otherwise.
    await pacer.wait(7)
    first = time.now
    await pacer.wait(7)
    assert time.now - first == pytest.approx(1.0)


async def test_pacer_hold_stops_every_send_for_the_time_telegram_asks() -> None:
    time = FakeTime()
    pacer = SendPacer(per_second=25, clock=time.clock, sleep=time.sleep)
    await pacer.wait(1)
    pacer.hold(3)
    before = time.now
    await pacer.wait(2)
    assert time.now - before == pytest.approx(3.0)


async def test_delivery_waits_out_429_and_counts_a_blocked_chat_as_failed(
    tg: FakeTelegram, bot: Bot
) -> None:
    recipients = [Recipient(tenant_id=i, chat_id=5000 + i) for i in range(1, 6)]
    tg.block_chat(5003)
    tg.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=5002)
    blocked: list[Recipient] = []
    seen: list[int] = []

    async def on_blocked(recipient: Recipient) -> None:
        blocked.append(recipient)

    async def on_progress(progress: BroadcastProgress) -> None:
        seen.append(progress.done)

    result = await deliver(
        bot, recipients, "Плановые работы в 03:00", on_blocked=on_blocked, on_progress=on_progress
    )
    assert (result.delivered, result.failed, result.blocked) == (4, 1, [3])
    assert blocked == [Recipient(3, 5003)]
    assert seen == [1, 2, 3, 4, 5]
    for chat_id in (5001, 5002, 5004, 5005):
        assert tg.texts(chat_id) == ["Плановые работы в 03:00"]
    assert tg.texts(5003) == []
    # The retry for 5002 came only after the second Telegram asked for.
    attempts = [c for c in tg.calls_to("sendMessage") if c.chat_id in (5002, "5002")]
    assert [c.ok for c in attempts] == [False, True]
    assert attempts[1].at - attempts[0].at >= 1.0
    # ...and nothing at all was sent in between (a 429 applies to the whole bot).
    between = [c for c in tg.calls_to("sendMessage") if attempts[0].at < c.at < attempts[1].at]
    assert between == []


async def test_delivery_stays_within_the_fakes_real_limits(tg: FakeTelegram, bot: Bot) -> None:
    tg.set_rate_limit(per_chat=1, overall=30, window=1.0)
    recipients = [Recipient(tenant_id=i, chat_id=7000 + i) for i in range(40)]
    result = await deliver(bot, recipients, "hello")
    assert (result.delivered, result.failed) == (40, 0)
    assert all(call.ok for call in tg.calls_to("sendMessage"))
    # At most ~25 a second, measured where Telegram sees them (allowing network jitter).
    assert _max_in_window(tg.send_times(), 0.95) <= 25


async def test_a_chat_that_keeps_answering_429_is_given_up_after_a_few_tries(
    tg: FakeTelegram, bot: Bot
) -> None:
    time = FakeTime()
    pacer = SendPacer(clock=time.clock, sleep=time.sleep)
    tg.fail_next("sendMessage", error_code=429, retry_after=30, times=100, chat_id=6001)
    recipients = [Recipient(1, 6001), Recipient(2, 6002)]
    result = await deliver(bot, recipients, "x", pacer=pacer, sleep=time.sleep)
    assert (result.delivered, result.failed, result.blocked) == (1, 1, [])
    assert tg.texts(6002) == ["x"]
    assert sum(s for s in time.sleeps) >= 30 * 4  # each retry waited the full retry_after
