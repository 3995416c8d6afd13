"""Consumer lag: the pure sum, group selection, gauge bookkeeping, and the AdminClient wiring
against a fake admin (the real one is exercised by the integration tests)."""

from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace
from typing import Any

from confluent_kafka import TopicPartition
from prometheus_client import CollectorRegistry

from exporters.lag import LagMetrics, LagProbe, select_groups, topic_lag
from exporters.settings import LagSettings


def test_topic_lag_sums_partitions_and_skips_unknown_offsets() -> None:
    committed = {("t", 0): 100, ("t", 1): 5, ("t", 2): -1001, ("u", 0): 50, ("gone", 0): 7}
    end = {("t", 0): 150, ("t", 1): 5, ("t", 2): 999, ("u", 0): 40}
    # t: 50 + 0 (partition 2 has no commit); u: end behind the commit clamps at 0; gone: no end offset
    assert topic_lag(committed, end) == {"t": 50, "u": 0}


def test_select_groups_explicit_plus_pattern_capped() -> None:
    settings = LagSettings(groups=("manual",), group_pattern="^aegis-", max_groups=3)
    available = ["aegis-ingest", "aegis-health", "aegis-fleet", "other", "xaegis-y"]
    assert select_groups(available, settings) == ["aegis-fleet", "aegis-health", "aegis-ingest"]
    assert select_groups(available, LagSettings(groups=("manual",), group_pattern=None)) == ["manual"]


def test_lag_metrics_removes_vanished_series() -> None:
    registry = CollectorRegistry()
    metrics = LagMetrics(registry)
    metrics.update({("g1", "t"): 5, ("g2", "t"): 7})
    metrics.update({("g2", "t"): 9})

    def lag(group: str) -> float | None:
        return registry.get_sample_value("aegis_kafka_consumer_lag", {"group": group, "topic": "t"})

    assert (lag("g1"), lag("g2")) == (None, 9.0)


def done(result: Any) -> Future:
    f: Future = Future()
    f.set_result(result)
    return f


class FakeAdmin:
    """The three AdminClient calls LagProbe makes, answering from dicts."""

    def __init__(self, committed: dict[str, dict[tuple[str, int], int]], end: dict[tuple[str, int], int]):
        self.committed = committed
        self.end = end
        self.isolation: Any = None

    def list_consumer_groups(self, request_timeout: float) -> Future:
        return done(SimpleNamespace(valid=[SimpleNamespace(group_id=g) for g in self.committed]))

    def list_consumer_group_offsets(self, requests: list[Any], request_timeout: float) -> dict[str, Future]:
        group = requests[0].group_id
        tps = [TopicPartition(t, p, o) for (t, p), o in self.committed[group].items()]
        return {group: done(SimpleNamespace(topic_partitions=tps))}

    def list_offsets(self, specs: dict[TopicPartition, Any], isolation_level: Any,
                     request_timeout: float) -> dict[TopicPartition, Future]:
        self.isolation = isolation_level
        out: dict[TopicPartition, Future] = {}
        for tp in specs:
            f: Future = Future()
            key = (tp.topic, tp.partition)
            if key in self.end:
                f.set_result(SimpleNamespace(offset=self.end[key]))
            else:
                f.set_exception(RuntimeError("UNKNOWN_TOPIC_OR_PART"))
            out[tp] = f
        return out


def test_probe_measures_each_matching_group() -> None:
    from confluent_kafka import IsolationLevel

    admin = FakeAdmin(
        committed={"aegis-health": {("aegis.telemetry.clean", 0): 10, ("aegis.telemetry.clean", 1): 20},
                   "aegis-fleet": {("aegis.health", 0): 3, ("deleted", 0): 1},
                   "someone-else": {("aegis.health", 0): 0}},
        end={("aegis.telemetry.clean", 0): 15_010, ("aegis.telemetry.clean", 1): 20, ("aegis.health", 0): 8})
    probe = LagProbe(admin, LagSettings(group_pattern="^aegis-"))
    assert probe.measure() == {("aegis-health", "aegis.telemetry.clean"): 15_000,
                               ("aegis-fleet", "aegis.health"): 5}
    assert admin.isolation == IsolationLevel.READ_COMMITTED
