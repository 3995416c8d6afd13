"""Which record model each result topic carries, and how its bytes become one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from aegis.contracts import Alert, BatteryStatus, DeadLetter, FleetAggregate, Health


class InferenceLatency(BaseModel):
    """The exporter's view of a record on aegis.inference: only what it measures.

    The vision job (a later issue) owns the full record; extra fields are ignored so that job can
    add detections, boxes and model versions without breaking the exporter.
    """

    model_config = ConfigDict(extra="ignore")

    vehicle_id: str
    ts: int
    latency_ms: float = Field(ge=0)
    model: str | None = None


#: logical topic name (without kafka.topic_prefix) -> the model its records parse into
MODELS: dict[str, type[BaseModel]] = {
    "health": Health,
    "battery": BatteryStatus,
    "aggregated": FleetAggregate,
    "alerts": Alert,
    "inference": InferenceLatency,
    # the jobs' dead-letter queues: counted by source topic and reason, so nothing is lost unseen
    "telemetry.dlq": DeadLetter,
    "features.dlq": DeadLetter,
    "dragonsync.dlq": DeadLetter,
}


def models_for(topics: dict[str, str]) -> dict[str, type[BaseModel]]:
    """Map full topic names to models, given {logical name: full name}."""
    unknown = sorted(set(topics) - set(MODELS))
    if unknown:
        raise ValueError(f"the exporter cannot read topics {unknown}: it knows {sorted(MODELS)}")
    return {full: MODELS[logical] for logical, full in topics.items()}


def parse(model: type[BaseModel], value: bytes | None) -> BaseModel:
    """Parse one record's value; raises ValueError (pydantic's ValidationError is one) when bad."""
    if value is None:
        raise ValueError("record has no value (tombstone)")
    return model.model_validate_json(value)
