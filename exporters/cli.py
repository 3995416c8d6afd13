"""`aegis exporter`: serve fleet, alert, inference and consumer-lag metrics for Prometheus."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from aegis.cli import CliError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "exporter", help="serve Prometheus metrics from the result topics",
        description="Reads aegis.health, .battery, .aggregated, .alerts and .inference (read-committed) "
                    "and serves /metrics; also probes consumer-group lag. Settings: the exporter: "
                    "section of flink-conf/aegis.yaml. Stops on SIGTERM or Ctrl-C.")
    p.add_argument("--port", type=int, help="HTTP port (default: prometheus.exporter_port)")
    p.add_argument("--bind", help="address to listen on (default: exporter.bind_address)")
    p.add_argument("--start-from", choices=("latest", "earliest"),
                   help="where to start reading partitions present at startup (default: exporter.start_from)")
    p.add_argument("--no-lag", action="store_true", help="do not probe consumer-group lag")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from prometheus_client import (
        CollectorRegistry,
        GCCollector,
        PlatformCollector,
        ProcessCollector,
        disable_created_metrics,
    )
    from prometheus_client.exposition import start_http_server

    from aegis.config import settings
    from exporters.service import ExporterService
    from exporters.settings import from_config

    cfg = settings()
    try:
        conf = from_config(cfg)
        changes: dict[str, object] = {}
        if args.port is not None:
            changes["port"] = args.port
        if args.bind is not None:
            changes["bind_address"] = args.bind
        if args.start_from is not None:
            changes["start_from"] = args.start_from
        if args.no_lag:
            changes["lag"] = dataclasses.replace(conf.lag, enabled=False)
        conf = dataclasses.replace(conf, **changes)
    except (KeyError, ValueError) as e:
        raise CliError(f"bad exporter settings in flink-conf/aegis.yaml: {e}") from e

    # *_created series double the counters' cardinality for nothing the rules or dashboards use
    disable_created_metrics()
    registry = CollectorRegistry()
    for collector in (ProcessCollector, PlatformCollector, GCCollector):
        collector(registry=registry)
    service = ExporterService(conf, cfg, registry)
    try:
        server, thread = start_http_server(conf.port, conf.bind_address, registry=registry)
    except OSError as e:
        raise CliError(f"cannot listen on {conf.bind_address}:{conf.port} ({e}): is another exporter "
                       "running? Use --port or AEGIS_PROMETHEUS__EXPORTER_PORT") from e

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    log.info("serving metrics on http://%s:%d/metrics from %s", conf.bind_address, conf.port,
             ", ".join(conf.topics.values()))
    try:
        service.run(stop)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    log.info("exporter stopped")
    return 0
