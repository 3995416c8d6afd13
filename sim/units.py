"""Parsing of the human-friendly quantities the simulator accepts: durations ("24h", "1h30m",
"90s", "3600"), points in time (ISO 8601 or epoch milliseconds) and scenario offsets ("25%" of the
run, or a duration)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UNIT_S = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def parse_duration(text: str | int | float) -> float:
    """Seconds in a duration such as "24h", "1h30m", "90s", "2d" or a bare number of seconds."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"duration must not be negative: {text!r}")
        return float(text)
    s = str(text).strip().lower().replace(" ", "")
    try:
        value = float(s)
    except ValueError:
        pass
    else:
        if value < 0:
            raise ValueError(f"duration must not be negative: {text!r}")
        return value
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_S[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 24h, 1h30m, 2d)")
    return total


def parse_time_ms(text: str | int) -> int:
    """Epoch milliseconds from ISO 8601 ("2025-06-01T08:00:00Z"; naive means UTC) or an integer."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    s = str(text).strip()
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as e:
        raise ValueError(f"not a time: {text!r} (use ISO 8601 like 2025-06-01T08:00:00Z, "
                         "or epoch milliseconds)") from e
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(round(dt.timestamp() * 1000))


def parse_offset(text: str | int | float, run_s: float) -> float:
    """Seconds from the start of a run: "25%" of `run_s`, or a duration."""
    s = str(text).strip()
    if s.endswith("%"):
        try:
            frac = float(s[:-1]) / 100.0
        except ValueError as e:
            raise ValueError(f"not a percentage: {text!r}") from e
        if not 0.0 <= frac <= 10.0:
            raise ValueError(f"percentage out of range: {text!r}")
        return frac * run_s
    return parse_duration(text)


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h}h{m:02d}m{s:02d}s"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"
