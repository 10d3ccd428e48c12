"""Once per key, in bounded memory: what keeps client-caused warnings from flooding the log."""

from __future__ import annotations

from knightvision.kit.notices import OncePerKey


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_first_time_then_again_after_the_period() -> None:
    clock = Clock()
    once = OncePerKey(10, clock)
    assert once.first("a", 60) and not once.first("a", 60)
    assert once.first("b", 60)
    clock.now += 59.9
    assert not once.first("a", 60)
    clock.now += 0.1
    assert once.first("a", 60) and not once.first("a", 60)


def test_forever_unless_a_period_is_given() -> None:
    clock = Clock()
    once = OncePerKey(10, clock)
    assert once.first("peer")
    clock.now += 1e9
    assert not once.first("peer")


def test_memory_is_bounded_and_expired_keys_make_room() -> None:
    clock = Clock()
    once = OncePerKey(3, clock)
    assert all(once.first(key, 60) for key in "abc")
    assert not once.first("d", 60)  # full of live keys: quiet rather than growing
    assert not once.first("d", 60)  # and it was not remembered either
    clock.now += 60
    assert once.first("d", 60)  # the expired ones were dropped to make room
    assert once.first("a", 60) and once.first("b", 60)
    assert not once.first("e", 60)  # full again: d, a, b
