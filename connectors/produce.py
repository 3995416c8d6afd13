"""`aegis produce`: send JSONL records (a file or stdin) to a topic, keyed by vehicle_id,
with an idempotent producer. Lines that are not JSON are sent as they are (the ingest job
dead-letters them), so this is also the tool to replay captured bad traffic."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable

import orjson


def key_of(line: bytes, key_field: str) -> bytes | None:
    try:
        value = orjson.loads(line).get(key_field)
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return None if value is None else str(value).encode()


def produce_lines(lines: Iterable[bytes], topic: str, key_field: str = "vehicle_id",
                  progress_every: int = 100_000) -> int:
    from connectors.kafka import KeyedSender

    sender = KeyedSender(topic)
    t0 = time.monotonic()
    for line in lines:
        line = line.rstrip(b"\r\n")
        if not line:
            continue
        sender.send(key_of(line, key_field), line)
        if progress_every and sender.sent % progress_every == 0:
            rate = sender.sent / max(time.monotonic() - t0, 1e-9)
            print(f"  {sender.sent:,} records sent ({rate:,.0f}/s)", file=sys.stderr)
    report = sender.flush()
    return report.delivered


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("produce", help="send JSONL records to a topic, keyed by vehicle_id")
    p.add_argument("file", nargs="?", default="-", help="JSONL file, or - for stdin (default)")
    p.add_argument("-t", "--topic", default="telemetry",
                   help="topic: a configured name (telemetry) or a full name (aegis.telemetry)")
    p.add_argument("--key-field", default="vehicle_id", help="JSON field used as the record key")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from aegis.cli import CliError
    from aegis.config import settings
    from connectors.kafka import DeliveryError

    cfg = settings()
    topic = args.topic if "." in args.topic and args.topic.startswith(cfg.get("kafka.topic_prefix")) \
        else cfg.topic(args.topic)
    try:
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    except OSError as e:
        raise CliError(f"cannot read {args.file}: {e.strerror}") from e
    with stream:
        try:
            n = produce_lines(stream, topic, args.key_field)
        except DeliveryError as e:
            raise CliError(str(e)) from e
    print(f"delivered {n:,} records to {topic}", file=sys.stderr)
    return 0
