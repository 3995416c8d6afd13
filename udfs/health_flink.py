"""The health job's Flink wrapper around udfs.cooldown: rule firings in, Alert records out.

Only rows where a rule fired reach this function (sql/health/views.sql: health_rule_firings), so
Python sees a trickle, never the telemetry stream.
"""

from __future__ import annotations

from pyflink.common import Row
from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import ValueStateDescriptor

from udfs.cooldown import AlertCooldown
from udfs.health_alerts import make_alert

#: the Alert contract's fields, in its order, as the function's output type
ALERT_FIELDS: list[tuple[str, object]] = [
    ("schema_version", Types.LONG()), ("alert_id", Types.STRING()), ("vehicle_id", Types.STRING()),
    ("fleet_id", Types.STRING()), ("alert_type", Types.STRING()), ("severity", Types.STRING()),
    ("value", Types.DOUBLE()), ("threshold", Types.DOUBLE()), ("ts", Types.LONG()),
    ("message", Types.STRING()), ("source", Types.STRING()),
]
ALERT_ROW = Types.ROW_NAMED([name for name, _ in ALERT_FIELDS], [t for _, t in ALERT_FIELDS])


def cooldown_key(row: Row) -> str:
    return f"{row['vehicle_id']}\x1f{row['alert_type']}"


class AlertCooldownFunction(KeyedProcessFunction):
    """Keyed by (vehicle, alert type): emits a firing as an alert unless its cooldown holds it back.

    The AlertCooldown sits pickled in keyed state; an event-time timer drops it once it has
    expired (from then on it would emit anyway), so a vehicle that stops firing costs no state.
    """

    def __init__(self, warning_ms: int, critical_ms: int):
        self.warning_ms = warning_ms
        self.critical_ms = critical_ms
        self.state = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.state = runtime_context.get_state(ValueStateDescriptor("cooldown", Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, row: Row, ctx: KeyedProcessFunction.Context):
        cooldown = self.state.value() or AlertCooldown(self.warning_ms, self.critical_ms)
        if not cooldown.update(row["ts"], row["severity"]):
            return
        self.state.update(cooldown)
        ctx.timer_service().register_event_time_timer(cooldown.expires_at())
        alert = make_alert(row["vehicle_id"], row["fleet_id"], row["alert_type"], row["severity"], row["value"],
                           row["threshold"], row["ts"], row["detail"])
        yield Row(*(alert[name] for name, _ in ALERT_FIELDS))

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):
        cooldown = self.state.value()
        if cooldown is not None and cooldown.expires_at() <= timestamp:
            self.state.clear()
        return iter(())
