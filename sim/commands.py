"""The closed loop's input: safety commands from aegis.commands (aegis.contracts.Command).

The reader only fetches and parses; what a vehicle does with a command is the pure model's
business (Fleet.apply_command), so behaviour is unit-tested without a broker.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from pydantic import ValidationError

from aegis.config import Config, settings
from aegis.contracts import Command

log = logging.getLogger(__name__)


class CommandSource(Protocol):
    def poll(self) -> list[Command]: ...
    def close(self) -> None: ...


class ListCommands:
    """Commands handed out at given ticks: for tests and scripted demos. {tick: [Command, ...]}"""

    def __init__(self, schedule: dict[int, list[Command]]):
        self.schedule = schedule
        self.tick = -1

    def poll(self) -> list[Command]:
        self.tick += 1
        return list(self.schedule.get(self.tick, []))

    def close(self) -> None:
        pass


class KafkaCommandReader:
    """Reads commands published after the simulator started (from the end of every partition)."""

    def __init__(self, topic: str | None = None, cfg: Config | None = None):
        from confluent_kafka import OFFSET_END, TopicPartition

        from connectors.kafka import make_consumer

        cfg = cfg or settings()
        self.topic = topic or cfg.topic("commands")
        self.consumer = make_consumer(f"{cfg.get('sim.commands_group_prefix', 'aegis-sim')}-{time.time_ns()}", cfg)
        md = self.consumer.list_topics(self.topic, timeout=10)
        meta = md.topics.get(self.topic)
        if meta is None or meta.error is not None:
            raise RuntimeError(f"topic {self.topic} does not exist (create the topics with `aegis stack up`)")
        # assign, not subscribe: no group rebalance delay, so no command sent after start-up is missed
        self.consumer.assign([TopicPartition(self.topic, p, OFFSET_END) for p in meta.partitions])
        self.invalid = 0

    def poll(self) -> list[Command]:
        out: list[Command] = []
        for msg in self.consumer.consume(num_messages=1000, timeout=0):
            if msg.error():
                log.warning("commands: %s", msg.error())
                continue
            try:
                out.append(Command.model_validate_json(msg.value()))
            except ValidationError as e:
                self.invalid += 1
                log.warning("ignoring an invalid command on %s: %s", self.topic, str(e).splitlines()[0])
        return out

    def close(self) -> None:
        self.consumer.close()
