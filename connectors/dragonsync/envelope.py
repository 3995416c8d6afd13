"""The record the poller puts on aegis.dragonsync.{drones,signals,status}: one kit response,
unchanged, wrapped with who and when.

    {"schema_version": 1, "kind": "drones", "kit_id": "kit-01", "reported_kit_id": "wardragon-123",
     "kit_name": ..., "kit_location": ..., "api_url": ..., "kit_state": "online",
     "last_seen": <ms>, "poll_time": <ms>, "observed_at": <ms or null>,
     "http_status": 200, "error": null, "body": {...the response JSON...}}

`observed_at` is the kit's own clock: the newest observed_at/last_update_time in the response
(DragonSync's lists are snapshots). A body that is not JSON travels as text in `body_raw` instead
of `body`, so the normalisation job can dead-letter it with the original bytes. `kind` is
"kit_state" for the state changes the poller sees between /status polls (offline, error, ...).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from connectors.dragonsync.timefmt import epoch_ms

SCHEMA_VERSION = 1
KINDS = ("drones", "signals", "status", "kit_state")
TIME_FIELDS = ("observed_at", "last_update_time", "updated")


@dataclass(frozen=True)
class ParsedBody:
    body: Any          # the decoded JSON, or None when the bytes are not JSON
    raw: str | None    # the original text when not JSON (base64 when not UTF-8)
    encoding: str = "utf8"


def parse_body(data: bytes) -> ParsedBody:
    try:
        return ParsedBody(orjson.loads(data), None)
    except orjson.JSONDecodeError:
        try:
            return ParsedBody(None, data.decode("utf-8"))
        except UnicodeDecodeError:
            return ParsedBody(None, base64.b64encode(data).decode("ascii"), "base64")


def records_of(body: Any) -> list[Any]:
    """The list inside a /drones or /signals response (also a bare list, as older kits send)."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("drones", "signals", "aircraft"):
            if isinstance(body.get(key), list):
                return body[key]
    return []


def observed_ms(body: Any) -> int | None:
    """The kit's newest observation time in a response, epoch ms, or None."""
    items = [body] if isinstance(body, dict) and not records_of(body) else records_of(body)
    best: int | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        for name in TIME_FIELDS:
            ms = epoch_ms(item.get(name))
            if ms is not None:
                best = ms if best is None else max(best, ms)
                break
    return best


def make_envelope(*, kind: str, kit_id: str, poll_time_ms: int, kit_state: str,
                  parsed: ParsedBody | None = None, http_status: int | None = None,
                  error: str | None = None, reported_kit_id: str | None = None,
                  kit_name: str | None = None, kit_location: str | None = None,
                  api_url: str | None = None, last_seen_ms: int | None = None) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    env: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "kind": kind, "kit_id": kit_id,
        "reported_kit_id": reported_kit_id, "kit_name": kit_name, "kit_location": kit_location,
        "api_url": api_url, "kit_state": kit_state, "last_seen": last_seen_ms,
        "poll_time": poll_time_ms,
        "observed_at": observed_ms(parsed.body) if parsed is not None and parsed.raw is None else None,
        "http_status": http_status, "error": error,
    }
    if parsed is not None:
        if parsed.raw is None:
            env["body"] = parsed.body
        else:
            env["body_raw"] = parsed.raw
            env["body_encoding"] = parsed.encoding
    return env


def encode(envelope: dict[str, Any]) -> bytes:
    return orjson.dumps(envelope)
