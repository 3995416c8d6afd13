"""The ingest job's Flink wrapper around udfs.telemetry_validate: one UDTF call per raw record."""

from __future__ import annotations

from pyflink.table import DataTypes, Row
from pyflink.table.udf import TableFunction, udtf

from udfs.telemetry_validate import BOOL, FIELDS, FLOAT, FLOATS, INT, Rules, validate

_SQL_TYPES = {FLOAT: DataTypes.DOUBLE(), INT: DataTypes.BIGINT(), BOOL: DataTypes.BOOLEAN(),
              FLOATS: DataTypes.ARRAY(DataTypes.DOUBLE())}

#: the UDTF's output columns: the contract's fields, then the verdict
RESULT_COLUMNS = [(name, _SQL_TYPES.get(kind, DataTypes.STRING())) for name, kind in FIELDS] + [
    ("reason", DataTypes.STRING()), ("detail", DataTypes.STRING()), ("payload_b64", DataTypes.STRING())]
_VID = [name for name, _ in FIELDS].index("vehicle_id")
_EMPTY = [None] * len(FIELDS)


class ParseTelemetry(TableFunction):
    def __init__(self, rules: Rules):
        self.rules = rules

    def eval(self, payload: bytes):
        verdict = validate(payload, self.rules)
        if verdict.values is not None:
            yield Row(*verdict.values, None, None, None)
        else:
            values = list(_EMPTY)
            values[_VID] = verdict.vehicle_id
            yield Row(*values, verdict.reason, verdict.detail, verdict.payload_b64)


def parse_telemetry(rules: Rules):
    return udtf(ParseTelemetry(rules), result_types=[t for _, t in RESULT_COLUMNS])
