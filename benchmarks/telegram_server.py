"""The Telegram fake (tests/fakes/telegram.py) and the /status stream, in a process of their own.

`python -m benchmarks.telegram_server TOKEN` starts the fake and a small control server, prints one
JSON line ({"url", "control"}) and serves until its stdin closes. The responsiveness scenario
runs the bot against it: Telegram's own work (answering long polls, taking the replies) and
the stream of /status commands stay out of the measured process, as they would in production,
and a reply's arrival is timed by a loop that the bot's work cannot stall.

Control endpoints (JSON): POST /say {text, chat_id}; GET /polling (is a getUpdates in flight);
GET /messages?since=N (chats that were sent a message since the N-th call, and the next N);
POST /stream/start {chats, interval, expect}; POST /stream/stop {timeout} (latencies in seconds
from the moment each /status was due to the moment its answer, a reply holding `expect`,
arrived, and how many got none).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

import orjson
from aiohttp import web

from benchmarks.fake_process import serve_control
from tests.fakes.telegram import FakeTelegram


class StatusStream:
    """Sends /status from the given chats in turn, one every `interval` seconds.

    Only a reply holding `expect` is an answer: an error message is not.
    """

    def __init__(
        self, tg: FakeTelegram, chats: list[int], interval: float, expect: str = ""
    ) -> None:
        self._tg = tg
        self._expect = expect
        self._interval = interval
        self.due: dict[int, list[float]] = {chat: [] for chat in chats}
        self._chats = chats
        self.first_call = len(tg.calls)
        self._stop = asyncio.Event()

    async def run(self) -> None:
        started = time.monotonic()
        n = 0
        while not self._stop.is_set():
            due = started + n * self._interval
            delay = due - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                if self._stop.is_set():
                    break
            chat = self._chats[n % len(self._chats)]
            self.due[chat].append(due)
            self._tg.user_says("/status", chat_id=chat)
            n += 1

    def stop(self) -> None:
        self._stop.set()

    def _answers(self) -> dict[int, list[float]]:
        got: dict[int, list[float]] = {chat: [] for chat in self.due}
        for call in self._tg.calls[self.first_call :]:
            if call.method == "sendMessage" and call.ok:
                chat = int(call.params.get("chat_id", 0))
                if chat in got and self._expect in str(call.params.get("text", "")):
                    got[chat].append(call.at)
        return got

    async def latencies(self, timeout: float) -> tuple[list[float], int]:
        """Seconds from due to answer for each command, and how many got no answer."""
        expected = sum(len(d) for d in self.due.values())
        with contextlib.suppress(AssertionError):
            await self._tg.wait_until(
                lambda: sum(len(a) for a in self._answers().values()) >= expected,
                timeout=timeout,
            )
        got = self._answers()
        latencies: list[float] = []
        for chat, due in self.due.items():
            latencies.extend(at - when for when, at in zip(due, got[chat], strict=False))
        return latencies, expected - len(latencies)


def _json(body: Any) -> web.Response:
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def serve(token: str) -> None:
    async with FakeTelegram(token=token) as tg:
        streams: list[tuple[StatusStream, asyncio.Task[None]]] = []

        async def say(request: web.Request) -> web.Response:
            body = await request.json()
            tg.user_says(body["text"], chat_id=int(body["chat_id"]))
            return _json({"mark": tg.mark()})

        async def polling(_: web.Request) -> web.Response:
            return _json({"getUpdates": tg.received["getUpdates"]})

        async def messages(request: web.Request) -> web.Response:
            since = int(request.query.get("since", "0"))
            calls = tg.calls[since:]
            chats = sorted(
                {int(c.params.get("chat_id", 0)) for c in calls if c.method == "sendMessage"}
            )
            return _json({"next": since + len(calls), "chats": chats})

        async def stream_start(request: web.Request) -> web.Response:
            body = await request.json()
            stream = StatusStream(
                tg,
                [int(c) for c in body["chats"]],
                float(body["interval"]),
                str(body.get("expect", "")),
            )
            streams.append((stream, asyncio.create_task(stream.run())))
            return _json({})

        async def stream_stop(request: web.Request) -> web.Response:
            body = await request.json()
            stream, task = streams.pop()
            stream.stop()
            await task
            latencies, lost = await stream.latencies(float(body.get("timeout", 30)))
            return _json({"latencies": latencies, "lost": lost})

        control = web.Application()
        control.router.add_post("/say", say)
        control.router.add_get("/polling", polling)
        control.router.add_get("/messages", messages)
        control.router.add_post("/stream/start", stream_start)
        control.router.add_post("/stream/stop", stream_stop)
        await serve_control(control, {"url": tg.url})


def main() -> None:
    asyncio.run(serve(sys.argv[1]))


if __name__ == "__main__":
    main()
