"""`aegis sim`: run the fleet simulator."""

from __future__ import annotations

import argparse
import textwrap

EPILOG = textwrap.dedent("""\
    examples:
      aegis sim --vehicles 50 --duration 24h --speed max --scenario sim/scenarios/default.yaml --seed 7 \\
                --to parquet:out/
      aegis sim --vehicles 20 --duration 30m --speed realtime --scenario demo --to kafka
      aegis sim --vehicles 10 --duration 10m --to jsonl:out/telemetry.jsonl --set malformed_rate=0.05
      aegis sim --vehicles 3 --duration 20s --clean --to - | head

    outputs (--to):
      kafka          aegis.telemetry (+ ground truth on aegis.groundtruth), keyed by vehicle_id,
                     record timestamp = ts; kafka:TOPIC for another telemetry topic
      parquet:DIR    DIR/telemetry/part-*.parquet (valid records), DIR/rejected.parquet (duplicates and
                     malformed records with their reason), DIR/groundtruth.parquet, DIR/report.json
      jsonl:FILE     one record per line; FILE's stem + .groundtruth.jsonl and + .report.json beside it
      -              JSONL on stdout (the report goes to stderr)

    The report (JSON) counts exactly what was sent: valid records (what the ingest job stores) and the
    expected dead letters per reason. Scenarios: sim/scenarios/*.yaml (default, demo, clean, dirty,
    manufacturing); a bare name is looked up there.
    """)

IMPERFECTION_KEYS = ("jitter_rate", "jitter_ms", "out_of_order_rate", "out_of_order_max_s", "late_rate",
                     "late_delay_s", "duplicate_rate", "duplicate_delay_s", "malformed_rate", "malformed_kinds")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sim", help="run the fleet simulator (drones, UGVs, machines) with failures and ground truth",
        description=textwrap.dedent("""\
            Simulate fleets of quadcopters, fixed wings, UGVs and spindle machines: one telemetry record
            (aegis.contracts.Telemetry) per vehicle per simulated second, failures injected from a
            scenario, ground truth on the side, and configurable stream imperfections."""),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vehicles", "-n", type=int, default=10, metavar="N",
                   help="number of vehicles, split over the scenario's fleets by their shares (default 10)")
    p.add_argument("--duration", "-d", default="10m", metavar="DURATION",
                   help="simulated time: 90s, 15m, 24h, 1h30m, 2d or seconds (default 10m)")
    p.add_argument("--speed", default="max", metavar="SPEED",
                   help="max: as fast as possible, event time preserved (default); realtime (= 1): one record "
                        "per vehicle per wall-clock second; a number: that many times real time")
    p.add_argument("--scenario", "-s", default=None, metavar="PATH|NAME",
                   help="scenario YAML (fleets, failures, imperfections); a bare name is looked up in "
                        "sim/scenarios/ (default: sim.default_scenario in flink-conf/aegis.yaml)")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed: the same seed, scenario and options give the same records (default 0)")
    p.add_argument("--to", "-o", default="-", metavar="TARGET", dest="target",
                   help="kafka, kafka:TOPIC, parquet:DIR, jsonl:FILE, or - for JSONL on stdout (default -)")
    p.add_argument("--start", default=None, metavar="TIME",
                   help="event time of the first record, ISO 8601 (2025-06-01T08:00:00Z) or epoch ms; default: "
                        "now in real time, otherwise so that the run ends before now")
    p.add_argument("--clean", action="store_true",
                   help="no stream imperfections at all (failures still happen as the scenario says)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override one of the scenario's imperfections, e.g. --set malformed_rate=0.05 or "
                        "--set late_delay_s=[5,30]; keys: " + ", ".join(IMPERFECTION_KEYS) + " (repeatable)")
    p.add_argument("--commands", action=argparse.BooleanOptionalAction, default=None,
                   help="close the loop: apply commands from aegis.commands (return_to_launch, land, "
                        "emergency_stop, resume); default: on for --to kafka at a paced speed")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_run)


def _parse_speed(text: str) -> float | None:
    from aegis.cli import CliError

    t = text.strip().lower()
    if t == "max":
        return None
    if t in ("realtime", "real-time", "rt"):
        return 1.0
    try:
        v = float(t.removesuffix("x"))
    except ValueError as e:
        raise CliError(f"--speed {text!r}: use max, realtime, or a positive number such as 10") from e
    if not v > 0 or v == float("inf"):
        raise CliError(f"--speed {text!r}: must be positive")
    return v


def _parse_overrides(items: list[str]) -> dict[str, object]:
    import yaml

    from aegis.cli import CliError

    out: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in IMPERFECTION_KEYS:
            raise CliError(f"--set {item!r}: expected KEY=VALUE with KEY one of {', '.join(IMPERFECTION_KEYS)}")
        out[key] = yaml.safe_load(raw)
    return out


def _run(args: argparse.Namespace) -> int:
    import sys
    import time

    import orjson

    from aegis.cli import CliError
    from aegis.config import settings
    from sim.runner import SimConfig, Simulation
    from sim.scenario import ScenarioError
    from sim.sinks import SinkError, open_sink
    from sim.units import parse_duration, parse_time_ms

    cfg = settings()
    if args.vehicles < 1:
        raise CliError(f"--vehicles {args.vehicles}: need at least one vehicle")
    try:
        duration = parse_duration(args.duration)
    except ValueError as e:
        raise CliError(f"--duration: {e}") from e
    if duration < 1:
        raise CliError(f"--duration {args.duration!r}: must be at least 1s")
    speed = _parse_speed(args.speed)
    try:
        start_ms = parse_time_ms(args.start) if args.start is not None else None
    except ValueError as e:
        raise CliError(f"--start: {e}") from e
    config = SimConfig(vehicles=args.vehicles, duration_s=duration, seed=args.seed,
                       scenario=args.scenario or cfg.get("sim.default_scenario", "default"),
                       speed=speed, start_ms=start_ms, clean=args.clean,
                       imperfection_overrides=_parse_overrides(args.overrides), progress=not args.quiet)
    try:
        simulation = Simulation(config, cfg)
    except ScenarioError as e:
        raise CliError(str(e)) from e
    except ValueError as e:
        raise CliError(str(e)) from e

    to_kafka = args.target.split(":", 1)[0] == "kafka"
    if to_kafka:
        # records from the future are dead-lettered by the ingest job
        max_future = int(cfg.get("validation.max_future_ms"))
        now = int(time.time() * 1000)
        ahead_at_start = simulation.start_ms - now
        ahead_at_end = simulation.report.end_ts - (now + (duration / speed * 1000 if speed else 0))
        if max(ahead_at_start, ahead_at_end) > max_future:
            raise CliError(f"the run's event time reaches {simulation.report.end_ts} ms, beyond now + "
                           f"validation.max_future_ms: the ingest job would reject it; start earlier (--start) "
                           "or leave --start out")
    try:
        sink = open_sink(args.target, cfg)
    except SinkError as e:
        raise CliError(str(e)) from e
    use_commands = args.commands if args.commands is not None else (to_kafka and speed is not None)
    commands = None
    if use_commands:
        from sim.commands import KafkaCommandReader

        try:
            commands = KafkaCommandReader(cfg=cfg)
        except Exception as e:  # noqa: BLE001 - any broker problem is the user's to fix
            raise CliError(f"cannot read commands from Kafka ({e}); use --no-commands") from e

    print(f"sim: {simulation.report.vehicles} vehicles {simulation.report.vehicles_by_type}, "
          f"{simulation.ticks} s at speed {simulation.report.speed}, scenario {simulation.scenario.name}, "
          f"seed {args.seed} -> {sink.description}", file=sys.stderr)
    try:
        report = simulation.run(sink, commands)
    except Exception as e:
        from connectors.kafka import DeliveryError

        if isinstance(e, DeliveryError | SinkError | OSError):
            raise CliError(str(e)) from e
        raise
    print(f"sim: {report.summary()}", file=sys.stderr)
    out = sys.stderr if args.target == "-" else sys.stdout
    out.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    return 130 if report.interrupted else 0
