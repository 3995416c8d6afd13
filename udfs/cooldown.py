"""Alert cooldown in event time, for one (vehicle, alert type): the state behind jobs/health.py's
keyed process function, small enough to sit pickled in Flink keyed state."""

from __future__ import annotations

SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")


class AlertCooldown:
    """Decides, event by event, whether a rule firing becomes an alert.

    A warning (or info) is emitted when no alert of any severity was emitted in the previous
    `warning_ms`; a critical when no critical was emitted in the previous `critical_ms`, so a
    critical breaks through a warning's cooldown. Only event times count, never the wall clock,
    so a replay of the same input emits the same alerts. A firing older than the last emitted
    alert is inside its cooldown and is suppressed.

    Parameters
    ----------
    warning_ms
        Cooldown after any alert, for warnings and infos (event-time milliseconds).
    critical_ms
        Cooldown after a critical, for criticals.

    Examples
    --------
    >>> cooldown = AlertCooldown(warning_ms=30_000, critical_ms=10_000)
    >>> [cooldown.update(ts, "warning") for ts in (0, 1_000, 29_999, 30_000)]
    [True, False, False, True]
    >>> cooldown.update(31_000, "critical")
    True
    >>> cooldown.update(40_999, "critical"), cooldown.update(41_000, "critical")
    (False, True)
    """

    def __init__(self, warning_ms: int = 30_000, critical_ms: int = 10_000):
        if warning_ms < 0 or critical_ms < 0:
            raise ValueError(f"Invalid cooldown: warning_ms={warning_ms}, critical_ms={critical_ms}; "
                             "both must be >= 0")
        self.warning_ms = warning_ms
        self.critical_ms = critical_ms
        self._reset()

    def _reset(self) -> None:
        self._last_any: int | None = None
        self._last_critical: int | None = None

    def update(self, ts: int, severity: str) -> bool:
        """Record a rule firing at event time `ts`; True when it should be emitted as an alert."""
        if severity not in SEVERITIES:
            raise ValueError(f"Invalid severity {severity!r}. Valid values are: {', '.join(SEVERITIES)}")
        if severity == "critical":
            emit = self._last_critical is None or ts - self._last_critical >= self.critical_ms
        else:
            emit = self._last_any is None or ts - self._last_any >= self.warning_ms
        if emit:
            self._last_any = ts if self._last_any is None else max(self._last_any, ts)
            if severity == "critical":
                self._last_critical = ts
        return emit

    def expires_at(self) -> int | None:
        """Event time from which every firing would be emitted again: the state can be dropped then."""
        ends = [t + d for t, d in ((self._last_any, self.warning_ms), (self._last_critical, self.critical_ms))
                if t is not None]
        return max(ends) if ends else None

    def __repr__(self) -> str:
        return (f"AlertCooldown(warning_ms={self.warning_ms}, critical_ms={self.critical_ms}, "
                f"last_any={self._last_any}, last_critical={self._last_critical})")
