"""`aegis consume`: print the committed records of a topic as JSON lines (for people and scripts)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("consume", help="print a topic's committed records (read_committed) as JSONL")
    p.add_argument("topic", help="a configured name (telemetry.dlq) or a full name")
    p.add_argument("-n", "--max", type=int, default=None, help="stop after this many records")
    p.add_argument("--idle", type=float, default=3.0, help="stop after this many idle seconds")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from confluent_kafka import KafkaException

    from aegis.cli import CliError
    from aegis.config import settings
    from connectors.kafka import read_topic

    cfg = settings()
    topic = args.topic if args.topic.startswith(cfg.get("kafka.topic_prefix")) else cfg.topic(args.topic)
    try:
        for _key, value in read_topic(topic, cfg, idle_s=args.idle, expect=args.max):
            sys.stdout.buffer.write(value + b"\n")
    except KafkaException as e:
        raise CliError(f"{e}. Is the stack up (`aegis stack status`)?") from e
    return 0
