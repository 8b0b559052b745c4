"""The per-seller rate limiter."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from core.wb.limits import LIMITS, Limit, Method, RateLimiter, limit_for
from core.wb.token import TokenType

START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_every_method_has_a_limit_for_every_token_type() -> None:
    for method in Method:
        for token_type in TokenType:
            assert limit_for(method, token_type).burst >= 1
    assert set(LIMITS) == set(Method)


def test_base_limits_are_the_documented_ones() -> None:
    assert limit_for(Method.ORDERS, TokenType.BASE) == Limit(3 * 3600, 1)
    assert limit_for(Method.ORDERS, TokenType.PERSONAL) == Limit(60, 1)
    assert limit_for(Method.REMAINS_CREATE, TokenType.BASE) == Limit(900, 1)
    assert limit_for(Method.FBS_STOCKS, TokenType.BASE) == Limit(0.4, 10)
    assert limit_for(Method.FBS_STOCKS, TokenType.SERVICE) == Limit(0.2, 20)
    assert limit_for(Method.SELLER_INFO, TokenType.BASE) == Limit(86400, 1)
    assert limit_for(Method.PING, TokenType.BASE) == Limit(10, 3)


def test_burst_then_one_call_per_period(clock: Clock) -> None:
    limiter = RateLimiter(TokenType.PERSONAL, clock=clock)
    for _ in range(5):
        assert limiter.wait_time(Method.CARDS_LIST) == 0
        limiter.take(Method.CARDS_LIST)
    assert limiter.wait_time(Method.CARDS_LIST) == pytest.approx(0.6)
    clock.now += 0.6
    assert limiter.wait_time(Method.CARDS_LIST) == pytest.approx(0, abs=1e-9)


def test_the_next_call_is_spaced_from_the_answer_not_the_send(clock: Clock) -> None:
    """A call that took 2 s to answer may have reached WB 2 s after it was sent."""
    limiter = RateLimiter(TokenType.PERSONAL, clock=clock)
    left = limiter.take(Method.REMAINS_STATUS)  # 1 per 5 s
    clock.now += 2.0  # the answer comes back
    assert limiter.wait_time(Method.REMAINS_STATUS) == pytest.approx(3.0)
    limiter.settle(Method.REMAINS_STATUS, left)
    assert limiter.wait_time(Method.REMAINS_STATUS) == pytest.approx(5.0)
    clock.now += 5.0
    assert limiter.wait_time(Method.REMAINS_STATUS) == 0


def test_settling_never_gives_tokens_back(clock: Clock) -> None:
    limiter = RateLimiter(TokenType.PERSONAL, clock=clock)
    first = limiter.take(Method.CARDS_LIST)
    limiter.take(Method.CARDS_LIST)  # a second call while the first is out
    limiter.settle(Method.CARDS_LIST, first)
    assert limiter.wait_time(Method.CARDS_LIST) == 0  # burst 5: three left
    assert limiter.to_state()["buckets"]["cards_list"]["tokens"] == pytest.approx(3.0)


def test_base_orders_next_call_in_three_hours(clock: Clock) -> None:
    limiter = RateLimiter(TokenType.BASE, clock=clock)
    limiter.take(Method.ORDERS)
    assert limiter.wait_time(Method.ORDERS) == pytest.approx(10800)
    assert limiter.next_allowed_at(Method.ORDERS) == datetime.fromtimestamp(START + 10800, UTC)
    assert limiter.wait_time(Method.SALES) == 0  # other methods have their own bucket


def test_penalize_blocks_exactly_retry_after(clock: Clock) -> None:
    limiter = RateLimiter(TokenType.PERSONAL, clock=clock)
    limiter.penalize(Method.FBS_STOCKS, 7.0)
    assert limiter.wait_time(Method.FBS_STOCKS) == pytest.approx(7.0)
    clock.now += 6.5
    assert limiter.wait_time(Method.FBS_STOCKS) == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.wait_time(Method.FBS_STOCKS) == pytest.approx(0, abs=1e-9)
    limiter.take(Method.FBS_STOCKS)
    assert limiter.wait_time(Method.FBS_STOCKS) > 0  # the bucket was emptied


def test_server_remaining_overrides_a_fuller_bucket(clock: Clock) -> None:
    limiter = RateLimiter(TokenType.PERSONAL, clock=clock)
    limiter.take(Method.WAREHOUSES)
    limiter.observe_remaining(Method.WAREHOUSES, 0)
    assert limiter.wait_time(Method.WAREHOUSES) == pytest.approx(0.2)
    limiter.observe_remaining(Method.WAREHOUSES, 15)  # more than we think: keep ours
    assert limiter.wait_time(Method.WAREHOUSES) == pytest.approx(0.2)


def test_marketplace_debt_from_extra_cost(clock: Clock) -> None:
    limiter = RateLimiter(TokenType.BASE, clock=clock)
    limiter.take(Method.FBS_STOCKS, cost=10)
    limiter.take(Method.FBS_STOCKS, cost=9)
    # 10 - 19 = -9 tokens: ten periods until one is whole again.
    assert limiter.wait_time(Method.FBS_STOCKS) == pytest.approx(10 * 0.4)


def test_state_survives_a_restart(clock: Clock) -> None:
    limiter = RateLimiter(TokenType.BASE, clock=clock)
    limiter.take(Method.ORDERS)
    limiter.penalize(Method.REMAINS_STATUS, 120)
    state = orjson.loads(orjson.dumps(limiter.to_state()))
    clock.now += 600
    restored = RateLimiter(TokenType.BASE, clock=clock, state=state)
    assert restored.wait_time(Method.ORDERS) == pytest.approx(10800 - 600)
    assert restored.wait_time(Method.REMAINS_STATUS) == pytest.approx(0, abs=1e-9)
    assert restored.wait_time(Method.CARDS_LIST) == 0


def test_corrupt_state_is_ignored(clock: Clock) -> None:
    state = {"version": 1, "buckets": {"nonsense": {"tokens": 1}, "orders": {"tokens": "x"}}}
    limiter = RateLimiter(TokenType.BASE, clock=clock, state=state)
    assert limiter.wait_time(Method.ORDERS) == 0


def test_disabled_limiter_never_waits(clock: Clock) -> None:
    limiter = RateLimiter(TokenType.BASE, clock=clock, enabled=False)
    for _ in range(3):
        limiter.take(Method.ORDERS)
    limiter.penalize(Method.ORDERS, 500)
    assert limiter.wait_time(Method.ORDERS) == 0


def test_ping_buckets_are_per_host(clock: Clock) -> None:
    limiter = RateLimiter(TokenType.PERSONAL, clock=clock)
    for _ in range(3):
        limiter.take(Method.PING, host="content-api.wildberries.ru")
    assert limiter.wait_time(Method.PING, host="content-api.wildberries.ru") == pytest.approx(10)
    assert limiter.wait_time(Method.PING, host="common-api.wildberries.ru") == 0
