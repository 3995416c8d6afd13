"""Thin PyFlink wrappers around normalize.normalize_envelope, one UDTF per target table.

Each call takes one raw Kafka record (an envelope) and yields that table's rows; the drones,
signals and system_health UDTFs also yield the rejects, with the table's columns NULL and
reason/detail/bad_payload/payload_encoding set, so SQL splits them into the table and the DLQ.
`item_no` numbers the outputs of one record, which keeps two rejects of one response apart.
Times ("ts" columns) leave as epoch-ms BIGINTs; the SQL turns them into TIMESTAMP_LTZ(3).
"""

from __future__ import annotations

from collections.abc import Mapping

from pyflink.table import DataTypes
from pyflink.table.udf import TableFunction, udtf

from connectors.dragonsync import columns
from connectors.dragonsync.normalize import DEFAULT_LIMITS, Rejected, Row, normalize_envelope

_TYPES = {"ts": DataTypes.BIGINT(), "text": DataTypes.STRING(), "double": DataTypes.DOUBLE(),
          "int": DataTypes.INT(), "bigint": DataTypes.BIGINT(), "bool": DataTypes.BOOLEAN()}
REJECT_COLUMNS = ("item_no", "reason", "detail", "bad_payload", "payload_encoding")
WITH_REJECTS = ("drones", "signals", "system_health")


def result_columns(table: str) -> list[str]:
    return list(columns.names(table)) + (list(REJECT_COLUMNS) if table in WITH_REJECTS else [])


def _result_types(table: str) -> list:
    types = [_TYPES[kind] for _, kind in columns.TABLES[table]]
    if table in WITH_REJECTS:
        types += [DataTypes.INT(), DataTypes.STRING(), DataTypes.STRING(), DataTypes.STRING(),
                  DataTypes.STRING()]
    return types


class Normalize(TableFunction):
    def __init__(self, table: str, limits: Mapping[str, tuple[float, float]]):
        self.table = table
        merged = {**DEFAULT_LIMITS, **limits}
        self.limits = {k: (float(v[0]), float(v[1])) for k, v in merged.items()}
        self.names = columns.names(table)
        self.with_rejects = table in WITH_REJECTS
        self.kit_index = self.names.index("kit_id")

    def eval(self, payload: bytes):
        for n, result in enumerate(normalize_envelope(payload, self.limits)):
            if isinstance(result, Row):
                if result.table == self.table:
                    values = result.as_tuple()
                    yield (*values, n, None, None, None, None) if self.with_rejects else values
            elif self.with_rejects and isinstance(result, Rejected):
                values = [None] * len(self.names)
                values[self.kit_index] = result.kit_id
                yield (*values, n, result.reason, result.detail, result.payload, result.encoding)


def normalize_udtf(table: str, limits: Mapping[str, tuple[float, float]] | None = None):
    """The UDTF for one table: `LATERAL TABLE(fn(payload)) AS r(<result_columns(table)>)`."""
    return udtf(Normalize(table, limits or DEFAULT_LIMITS), result_types=_result_types(table))
