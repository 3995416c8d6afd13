"""`aegis dragonsync collect` (poll kits into Kafka) and `aegis dragonsync emulate` (fake kits)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("dragonsync", help="DragonSync (WarDragon) kits: collect or emulate",
                              description=__doc__)
    sub = p.add_subparsers(dest="dragonsync_command", required=True, metavar="SUBCOMMAND")

    c = sub.add_parser("collect", help="poll the kits in kits.yaml into aegis.dragonsync.* topics")
    c.add_argument("--kits-config", type=Path,
                   help="kits.yaml (default: dragonsync.kits_config, or KITS_CONFIG)")
    c.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    c.add_argument("--no-metrics", action="store_true", help="do not serve Prometheus metrics")
    c.set_defaults(func=collect)

    e = sub.add_parser("emulate", help="serve emulated DragonSync kits on 127.0.0.1")
    e.add_argument("--kits", type=int, default=10, help="number of kits (default 10)")
    e.add_argument("--base-port", type=int, default=18088,
                   help="kit i listens on base-port + i (default 18088; 0: any free port)")
    e.add_argument("--faults", action="append", default=[], metavar="KIT=KIND[:ARGS]",
                   help="inject a fault; repeatable or comma-separated: timeout[:P], http500[:P], "
                        "429[:P[:RETRY_AFTER]], malformed[:P], status503:SECONDS, offline:START:LENGTH")
    e.add_argument("--drones", type=int, default=4, help="Remote ID drones per kit (default 4)")
    e.add_argument("--aircraft", type=int, default=2, help="ADS-B aircraft per kit (default 2)")
    e.add_argument("--signals", type=int, default=1, help="FPV signals per kit (default 1)")
    e.add_argument("--tick", type=float, default=1.0, help="seconds between a kit's observations")
    e.add_argument("--no-rate-limit", action="store_true",
                   help="turn off DragonSync's 100 requests/min/client limit (for benchmarks)")
    e.add_argument("--write-kits", type=Path, help="write a kits.yaml for these kits to this path")
    e.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    e.set_defaults(func=emulate)


def _stop_on_signals(loop: Any, stop: Any) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


def collect(args: argparse.Namespace) -> int:
    import asyncio

    from aegis.cli import CliError
    from aegis.config import ConfigError, settings
    from connectors.dragonsync.kafka_sink import KafkaSink
    from connectors.dragonsync.kits import load_kits
    from connectors.dragonsync.metrics import PollerMetrics
    from connectors.dragonsync.poller import Poller
    from connectors.dragonsync.settings import load_settings

    cfg = settings()
    try:
        s = load_settings(cfg)
        kits = load_kits(args.kits_config or s.kits_config)
    except ConfigError as e:
        raise CliError(str(e)) from None
    enabled = [k for k in kits if k.enabled]
    if not enabled:
        raise CliError(f"no enabled kits in {args.kits_config or s.kits_config}")
    topics = {kind: cfg.topic(f"dragonsync.{kind}") for kind in ("drones", "signals", "status")}
    metrics = PollerMetrics()
    if s.metrics_port and not args.no_metrics:
        from prometheus_client import start_http_server
        start_http_server(s.metrics_port, addr=s.metrics_host, registry=metrics.registry)
        log.info("metrics on http://%s:%d/metrics", s.metrics_host, s.metrics_port)
    try:
        sink = KafkaSink(cfg, list(topics.values()))
    except Exception as e:  # any broker trouble here is a setup problem the user can fix
        raise CliError(f"cannot reach Kafka at {cfg.bootstrap}: {e} "
                       "(is the stack up? aegis stack status)") from None
    poller = Poller(enabled, s, topics, sink.send, metrics=metrics)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        _stop_on_signals(loop, stop)
        if args.duration is not None:
            loop.call_later(args.duration, stop.set)
        pump = asyncio.create_task(sink.pump(stop))
        log.info("polling %d kits every %.0f s (status every %.0f s) into %s",
                 len(enabled), s.poll_interval_s, s.status_poll_interval_s, ", ".join(topics.values()))
        await poller.run(stop)
        await pump

    asyncio.run(main())
    report = sink.flush()
    log.info("stopped: %d envelopes sent, %d delivered", poller.sent, report)
    return 0


def emulate(args: argparse.Namespace) -> int:
    import asyncio

    from aegis.cli import CliError
    from connectors.dragonsync.emulator import Emulator, EmulatorConfig, FaultSpecError, parse_faults
    from connectors.dragonsync.kits import kits_yaml

    if args.kits < 1:
        raise CliError("--kits must be at least 1")
    try:
        cfg = EmulatorConfig(n_kits=args.kits, base_port=args.base_port, faults=parse_faults(args.faults),
                             n_drones=args.drones, n_aircraft=args.aircraft, n_signals=args.signals,
                             tick_s=args.tick, rate_limit_per_min=0 if args.no_rate_limit else 100,
                             ledger=False)
        emulator = Emulator(cfg)
    except FaultSpecError as e:
        raise CliError(str(e)) from None

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        _stop_on_signals(loop, stop)
        if args.duration is not None:
            loop.call_later(args.duration, stop.set)
        try:
            await emulator.start()
        except OSError as e:
            raise CliError(f"cannot listen: {e} (another emulator running? try --base-port)") from None
        for kit in emulator.kits:
            faults = ", ".join(f.kind for f in kit.faults) or "healthy"
            print(f"{kit.profile.kit_id}  {kit.url}  ({faults})", flush=True)
        if args.write_kits:
            args.write_kits.parent.mkdir(parents=True, exist_ok=True)
            args.write_kits.write_text(kits_yaml(emulator.kit_list()))
            print(f"wrote {args.write_kits}", flush=True)
        await stop.wait()
        await emulator.stop()

    asyncio.run(main())
    return 0
