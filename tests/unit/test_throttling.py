"""Per-user throttling bookkeeping, on a clock the test moves."""

from __future__ import annotations

from bot.throttling import Throttle, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_messages_over_the_cap_get_one_note_then_silence() -> None:
    clock = Clock()
    throttle = Throttle(3, 1.0, {}, clock=clock)
    verdicts = [throttle.hit(7) for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    clock.now += 1.0
    assert throttle.hit(7) is Verdict.ALLOW


def test_users_are_counted_apart() -> None:
    throttle = Throttle(1, 10.0, {}, clock=Clock())
    assert throttle.hit(1) is Verdict.ALLOW
    assert throttle.hit(2) is Verdict.ALLOW
    assert throttle.hit(1) is Verdict.WARN


def test_the_window_slides() -> None:
    clock = Clock()
    throttle = Throttle(2, 10.0, {}, clock=clock)
    assert throttle.hit(1) is Verdict.ALLOW
    clock.now += 6
    assert throttle.hit(1) is Verdict.ALLOW
    clock.now += 5  # the first hit has left the window, the second has not
    assert throttle.hit(1) is Verdict.ALLOW
    assert throttle.hit(1) is Verdict.WARN


def test_cooldown_counts_down_and_then_allows() -> None:
    clock = Clock()
    throttle = Throttle(0, 0, {"sync": 60.0}, clock=clock)
    assert throttle.cooldown_left(5, "sync") == 0
    clock.now += 15
    assert throttle.cooldown_left(5, "sync") == 45
    assert throttle.cooldown_left(6, "sync") == 0  # another user is not held back
    clock.now += 45
    assert throttle.cooldown_left(5, "sync") == 0
    assert throttle.cooldown_left(5, "sync") == 60


def test_zero_turns_limits_off() -> None:
    throttle = Throttle(0, 10.0, {"sync": 0}, clock=Clock())
    assert all(throttle.hit(1) is Verdict.ALLOW for _ in range(1000))
    assert throttle.cooldown_left(1, "sync") == 0 and throttle.cooldown_left(1, "sync") == 0


def test_a_flood_of_fresh_users_stays_bounded() -> None:
    clock = Clock()
    throttle = Throttle(5, 1.0, {}, clock=clock)
    for user in range(30_000):
        clock.now += 0.001
        throttle.hit(user)
    assert len(throttle._hits) <= 10_001 + 1000
