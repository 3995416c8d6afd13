"""Alert cooldown (udfs/cooldown.py): bursts give one alert per cooldown window, a critical breaks
through a warning's cooldown, only event time counts, and the state survives pickling."""

from __future__ import annotations

import copy
import doctest
import pickle
import random

import pytest

from udfs import cooldown as cooldown_module
from udfs.cooldown import AlertCooldown

W, C = 30_000, 10_000


def emitted(events: list[tuple[int, str]], cd: AlertCooldown | None = None) -> list[tuple[int, str]]:
    cd = cd or AlertCooldown(warning_ms=W, critical_ms=C)
    return [(ts, sev) for ts, sev in events if cd.update(ts, sev)]


def test_doctest() -> None:
    assert doctest.testmod(cooldown_module).failed == 0


def test_a_burst_of_warnings_gives_one_alert_per_window() -> None:
    burst = [(ts, "warning") for ts in range(0, 95_000, 1_000)]     # one firing a second for 95 s
    assert [ts for ts, _ in emitted(burst)] == [0, 30_000, 60_000, 90_000]


def test_a_burst_of_criticals_gives_one_alert_per_critical_window() -> None:
    burst = [(ts, "critical") for ts in range(0, 35_000, 500)]
    assert [ts for ts, _ in emitted(burst)] == [0, 10_000, 20_000, 30_000]


@pytest.mark.parametrize(("gap", "emits"), [(W - 1, False), (W, True), (W + 1, True)])
def test_warning_cooldown_boundary(gap: int, emits: bool) -> None:
    cd = AlertCooldown(W, C)
    assert cd.update(1_000, "warning")
    assert cd.update(1_000 + gap, "warning") is emits


@pytest.mark.parametrize(("gap", "emits"), [(C - 1, False), (C, True), (C + 1, True)])
def test_critical_cooldown_boundary(gap: int, emits: bool) -> None:
    cd = AlertCooldown(W, C)
    assert cd.update(1_000, "critical")
    assert cd.update(1_000 + gap, "critical") is emits


def test_a_critical_breaks_through_a_warnings_cooldown() -> None:
    events = [(0, "warning"), (2_000, "warning"), (3_000, "critical"), (4_000, "warning"),
              (5_000, "critical"), (13_000, "critical"), (42_999, "warning"), (43_000, "warning")]
    # the warning cooldown runs from the last alert of either severity (13 s)
    assert emitted(events) == [(0, "warning"), (3_000, "critical"), (13_000, "critical"), (43_000, "warning")]


def test_a_warning_waits_for_the_cooldown_of_the_last_critical_too() -> None:
    events = [(0, "critical"), (10_000, "warning"), (29_999, "warning"), (30_000, "warning")]
    assert emitted(events) == [(0, "critical"), (30_000, "warning")]


def test_info_follows_the_warning_cooldown() -> None:
    assert emitted([(0, "info"), (1_000, "info"), (W, "warning")]) == [(0, "info"), (W, "warning")]


def test_only_event_time_counts_so_a_replay_emits_the_same() -> None:
    rng = random.Random(12345)
    ts, events = 0, []
    for _ in range(2_000):
        ts += rng.choice([200, 1_000, 5_000, 12_000])
        events.append((ts, rng.choice(["warning", "warning", "critical"])))
    first = emitted(events)
    assert emitted(events) == first
    assert 0 < len(first) < len(events)


def test_late_firings_inside_a_cooldown_are_suppressed() -> None:
    cd = AlertCooldown(W, C)
    assert cd.update(100_000, "warning")
    assert not cd.update(90_000, "warning")        # out of order: before the last alert
    assert cd.update(90_000, "critical")           # no critical yet: a critical is never held back by a warning
    assert not cd.update(95_000, "critical")


def test_expires_at() -> None:
    cd = AlertCooldown(W, C)
    assert cd.expires_at() is None
    cd.update(1_000, "warning")
    assert cd.expires_at() == 1_000 + W
    cd.update(25_000, "critical")
    assert cd.expires_at() == 25_000 + W       # a critical restarts the warning cooldown as well


def test_state_round_trips_through_pickle_and_deepcopy() -> None:
    cd = AlertCooldown(W, C)
    cd.update(0, "warning")
    cd.update(5_000, "critical")
    for clone in (pickle.loads(pickle.dumps(cd)), copy.deepcopy(cd)):
        assert repr(clone) == repr(cd)
        assert [clone.update(ts, "critical") for ts in (14_999, 15_000)] == [False, True]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"warning_ms": -1}, "Invalid cooldown: warning_ms=-1, critical_ms=10000; both must be >= 0"),
    ({"critical_ms": -5}, "Invalid cooldown: warning_ms=30000, critical_ms=-5; both must be >= 0"),
])
def test_invalid_parameters(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError) as e:
        AlertCooldown(**kwargs)
    assert str(e.value) == message


def test_invalid_severity() -> None:
    with pytest.raises(ValueError, match="Invalid severity 'fatal'. Valid values are: info, warning, critical"):
        AlertCooldown().update(0, "fatal")
