"""Kafka clients (confluent-kafka): an idempotent producer with surfaced delivery errors,
read-committed consumers, and topic administration from config."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from aegis.config import Config, settings

log = logging.getLogger(__name__)


class DeliveryError(RuntimeError):
    """At least one record could not be delivered to the broker."""


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def __call__(self, err: KafkaError | None, _msg: object) -> None:
        if err is None:
            self.delivered += 1
        else:
            self.failed += 1
            if len(self.errors) < 10:
                self.errors.append(str(err))


def make_producer(cfg: Config | None = None, **overrides: object) -> Producer:
    """An idempotent producer: retries never duplicate or reorder records within a partition."""
    cfg = cfg or settings()
    conf = {
        "bootstrap.servers": cfg.bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 20,
        "batch.size": 1_000_000,
        "compression.type": "lz4",
        "queue.buffering.max.messages": 1_000_000,
        "message.timeout.ms": 60_000,
    }
    conf.update(overrides)
    return Producer(conf)


class KeyedSender:
    """Sends (key, value) records to one topic, counts deliveries, and raises on failure at flush."""

    def __init__(self, topic: str, producer: Producer | None = None, cfg: Config | None = None):
        self.topic = topic
        self.producer = producer or make_producer(cfg)
        self.report = DeliveryReport()
        self.sent = 0

    def send(self, key: str | bytes | None, value: bytes | str, timestamp_ms: int | None = None) -> None:
        while True:
            try:
                kwargs = {"timestamp": timestamp_ms} if timestamp_ms is not None else {}
                self.producer.produce(self.topic, value=value, key=key, on_delivery=self.report, **kwargs)
                break
            except BufferError:
                # local queue full: let the client drain it, then retry (backpressure, not loss)
                self.producer.poll(0.05)
        self.sent += 1
        if self.sent % 10_000 == 0:
            self.producer.poll(0)

    def flush(self, timeout_s: float = 60.0) -> DeliveryReport:
        remaining = self.producer.flush(timeout_s)
        if remaining:
            raise DeliveryError(f"{remaining} records still undelivered to {self.topic} after {timeout_s}s: "
                                "is the broker up? (aegis stack status)")
        if self.report.failed:
            raise DeliveryError(f"{self.report.failed} records to {self.topic} failed: {self.report.errors[:3]}")
        return self.report


def make_consumer(group_id: str, cfg: Config | None = None, **overrides: object) -> Consumer:
    """A consumer that only sees committed transactions (the jobs' sinks are exactly-once)."""
    cfg = cfg or settings()
    conf = {
        "bootstrap.servers": cfg.bootstrap,
        "group.id": group_id,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    }
    conf.update(overrides)
    return Consumer(conf)


def read_topic(topic: str, cfg: Config | None = None, idle_s: float = 5.0,
               max_wait_s: float = 120.0, expect: int | None = None) -> Iterator[tuple[bytes | None, bytes]]:
    """Yield (key, value) of every committed record on a topic from the beginning, stopping after
    `expect` records, or once nothing new arrived for `idle_s` (bounded by `max_wait_s`)."""
    consumer = make_consumer(f"aegis-read-{topic}-{time.time_ns()}", cfg)
    try:
        md = consumer.list_topics(topic, timeout=10)
        if topic not in md.topics or md.topics[topic].error is not None:
            raise KafkaException(f"topic {topic} does not exist")
        consumer.assign([TopicPartition(topic, p, 0) for p in md.topics[topic].partitions])
        start = last = time.monotonic()
        seen = 0
        while time.monotonic() - start < max_wait_s:
            msg = consumer.poll(0.5)
            now = time.monotonic()
            if msg is None:
                if now - last > idle_s:
                    return
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(msg.error())
            last = now
            seen += 1
            yield msg.key(), msg.value()
            if expect is not None and seen >= expect:
                return
    finally:
        consumer.close()


def admin(cfg: Config | None = None) -> AdminClient:
    cfg = cfg or settings()
    return AdminClient({"bootstrap.servers": cfg.bootstrap})


def ensure_topics(names_partitions: Iterable[tuple[str, int]], cfg: Config | None = None,
                  timeout_s: float = 30.0) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    cfg = cfg or settings()
    client = admin(cfg)
    existing = set(client.list_topics(timeout=timeout_s).topics)
    rf = int(cfg.get("kafka.replication_factor"))
    todo = [NewTopic(name, num_partitions=parts, replication_factor=rf)
            for name, parts in names_partitions if name not in existing]
    if not todo:
        return []
    for name, fut in client.create_topics(todo, request_timeout=timeout_s).items():
        try:
            fut.result()
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        log.info("created topic %s", name)
    return [t.topic for t in todo]


def configured_topics(cfg: Config | None = None) -> list[tuple[str, int]]:
    cfg = cfg or settings()
    return [(cfg.topic(name), int(parts)) for name, parts in cfg.get("kafka.topics").items()]
