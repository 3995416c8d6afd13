"""Consumer-group lag as aegis_kafka_consumer_lag{group,topic}: committed offsets against the
last stable offsets, summed over partitions, so the RedpandaConsumerLag alert works the same on
Apache Kafka and on Redpanda.

The Flink Kafka sources commit their offsets to the group on each completed checkpoint, so the lag
of a job's group is what it has not yet checkpointed. A partition without a committed offset has
no lag reported (the group has not started on it, or never commits).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from exporters.settings import LagSettings

log = logging.getLogger(__name__)

TopicPartitionKey = tuple[str, int]


def topic_lag(committed: Mapping[TopicPartitionKey, int],
              end: Mapping[TopicPartitionKey, int]) -> dict[str, int]:
    """Sum of max(0, end - committed) per topic over partitions that have both offsets.

    Negative offsets are librdkafka's "no offset" sentinels and are skipped.
    """
    lag: dict[str, int] = {}
    for (topic, partition), offset in committed.items():
        last = end.get((topic, partition))
        if offset < 0 or last is None or last < 0:
            continue
        lag[topic] = lag.get(topic, 0) + max(0, last - offset)
    return lag


def select_groups(available: Iterable[str], settings: LagSettings) -> list[str]:
    """The configured groups plus the available ones matching the pattern, capped at max_groups."""
    chosen = set(settings.groups)
    if settings.group_pattern:
        pattern = re.compile(settings.group_pattern)
        chosen.update(g for g in available if pattern.search(g))
    return sorted(chosen)[: settings.max_groups]


class LagMetrics:
    """Holds the lag gauge and removes series of groups/topics that no longer report."""

    def __init__(self, registry: CollectorRegistry):
        self.lag = Gauge("aegis_kafka_consumer_lag",
                         "Records not yet consumed (committed) by a consumer group, per topic",
                         ("group", "topic"), registry=registry)
        self.errors = Counter("aegis_exporter_lag_probe_errors",
                              "Lag probes that failed (broker unreachable, timeout)", registry=registry)
        self._series: set[tuple[str, str]] = set()

    def update(self, lags: Mapping[tuple[str, str], int]) -> None:
        for group, topic in self._series - set(lags):
            self.lag.remove(group, topic)
        for (group, topic), value in lags.items():
            self.lag.labels(group, topic).set(value)
        self._series = set(lags)


class LagProbe:
    """Measures lag through a confluent-kafka AdminClient (or anything with the same methods)."""

    def __init__(self, admin: Any, settings: LagSettings):
        self.admin = admin
        self.settings = settings

    def measure(self) -> dict[tuple[str, str], int]:
        from confluent_kafka import ConsumerGroupTopicPartitions, IsolationLevel, TopicPartition
        from confluent_kafka.admin import OffsetSpec

        timeout = self.settings.timeout_s
        listed = self.admin.list_consumer_groups(request_timeout=timeout).result(timeout)
        groups = select_groups((g.group_id for g in listed.valid), self.settings)
        committed: dict[str, dict[TopicPartitionKey, int]] = {}
        for group in groups:
            # the API takes one group per request
            futures = self.admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group)], request_timeout=timeout)
            result = futures[group].result(timeout)
            committed[group] = {(tp.topic, tp.partition): tp.offset
                                for tp in result.topic_partitions or () if tp.error is None}
        partitions = {key for offsets in committed.values() for key in offsets}
        end: dict[TopicPartitionKey, int] = {}
        if partitions:
            # read_committed: the last stable offset, the furthest a transactional reader can get
            futures = self.admin.list_offsets(
                {TopicPartition(t, p): OffsetSpec.latest() for t, p in partitions},
                isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=timeout)
            for tp, future in futures.items():
                try:
                    end[(tp.topic, tp.partition)] = future.result(timeout).offset
                except Exception as e:  # a deleted topic must not hide every other group's lag
                    log.debug("no end offset for %s[%d]: %s", tp.topic, tp.partition, e)
        return {(group, topic): lag
                for group, offsets in committed.items()
                for topic, lag in topic_lag(offsets, end).items()}
