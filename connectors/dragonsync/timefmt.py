"""Time values as DragonSync sends them, to epoch milliseconds.

DragonSync mixes epoch seconds (observed_at, last_update_time), ISO text (gpsd_time_utc) and Remote
ID "timestamp" text that is *not* an absolute time ("3600.5", "0.0 seconds past the hour").
Only values that are plausibly absolute are accepted, so RID text never becomes an event time.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

# 2001-09-09 .. 2286-11-20 as epoch seconds; outside that a number is not an absolute time
_MIN_S, _MAX_S = 1e9, 1e10


def epoch_ms(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            return _iso_ms(text)
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if _MIN_S <= value < _MAX_S:
        return int(round(value * 1000))
    if _MIN_S * 1000 <= value < _MAX_S * 1000:
        return int(value)
    return None


def _iso_ms(text: str) -> int | None:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # gpsd and DragonSync speak UTC
    return int(round(dt.timestamp() * 1000))
