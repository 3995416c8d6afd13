"""The poller's Kafka side: one idempotent producer for the three raw topics."""

from __future__ import annotations

import asyncio
import contextlib

from aegis.config import Config
from connectors.kafka import KeyedSender, configured_topics, ensure_topics, make_producer


class KafkaSink:
    def __init__(self, cfg: Config, topics: list[str]):
        wanted = dict(configured_topics(cfg))
        ensure_topics([(t, wanted.get(t, int(cfg.get("kafka.default_partitions")))) for t in topics], cfg)
        producer = make_producer(cfg)
        self.senders = {t: KeyedSender(t, producer=producer) for t in topics}
        self.producer = producer

    def send(self, topic: str, key: str, value: bytes, timestamp_ms: int) -> None:
        self.senders[topic].send(key, value, timestamp_ms)

    async def pump(self, stop: asyncio.Event, every_s: float = 0.5) -> None:
        """Serve delivery callbacks while polling, so failures surface before the final flush."""
        while not stop.is_set():
            self.producer.poll(0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)

    def flush(self, timeout_s: float = 60.0) -> int:
        """Deliver everything still queued; raises connectors.kafka.DeliveryError on loss."""
        return sum(sender.flush(timeout_s).delivered for sender in self.senders.values())
