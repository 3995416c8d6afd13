"""Where the records go: Kafka (keyed by vehicle_id, record timestamp = ts), JSONL (a file or
stdout), Parquet (typed rows of the valid records, the rest with their reasons), or memory.

Every sink receives each record with its kind ("valid", "duplicate_seq" or a malformed reason), the
ground truth as it becomes known, and the run's report at the end; file sinks write the ground truth
and the report beside the data.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import IO, Protocol

import orjson

from aegis.config import Config, settings
from aegis.contracts import GroundTruth, Telemetry
from sim.report import SimReport


class SinkError(RuntimeError):
    """An output cannot be opened or written; the message says how to fix it."""


class Sink(Protocol):
    def send(self, key: bytes, ts: int, payload: bytes, kind: str) -> None: ...
    def ground_truth(self, records: list[dict], ts: int) -> None: ...
    def poll(self) -> None: ...
    def close(self, report: SimReport) -> None: ...

    @property
    def description(self) -> str: ...


class _LatestTruth:
    def __init__(self) -> None:
        self.truth: dict[str, dict] = {}

    def ground_truth(self, records: list[dict], ts: int) -> None:
        for r in records:
            self.truth[r["vehicle_id"]] = r

    def poll(self) -> None:
        pass


class MemorySink(_LatestTruth):
    """Keeps everything in lists: for tests and small API uses."""

    description = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[bytes, int, bytes, str]] = []
        self.report: SimReport | None = None

    def send(self, key: bytes, ts: int, payload: bytes, kind: str) -> None:
        self.records.append((key, ts, payload, kind))

    def close(self, report: SimReport) -> None:
        self.report = report


class JsonlSink(_LatestTruth):
    """One record per line. Beside FILE: FILE's stem + .groundtruth.jsonl and + .report.json."""

    def __init__(self, path: str | Path | None):
        super().__init__()
        self.path = None if path in (None, "-") else Path(path)
        if self.path is None:
            self.out: IO[bytes] = sys.stdout.buffer
            self.description = "stdout (JSONL)"
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.out = open(self.path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
            except OSError as e:
                raise SinkError(f"cannot write {self.path}: {e.strerror}") from e
            self.description = f"jsonl:{self.path}"

    def send(self, key: bytes, ts: int, payload: bytes, kind: str) -> None:
        self.out.write(payload + b"\n")

    def send_valid(self, keys: list[bytes], ts: list[int], payloads: list[bytes]) -> None:
        if payloads:
            self.out.write(b"\n".join(payloads) + b"\n")

    def poll(self) -> None:
        if self.path is None:
            self.out.flush()

    def sidecar(self, suffix: str) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name.removesuffix(".jsonl") + suffix)

    def close(self, report: SimReport) -> None:
        self.out.flush()
        if self.path is None:
            return
        self.out.close()
        with open(self.sidecar(".groundtruth.jsonl"), "wb") as f:
            for r in self.truth.values():
                f.write(orjson.dumps(r) + b"\n")
        self.sidecar(".report.json").write_bytes(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2))


def _arrow_type(annotation: object):
    import pyarrow as pa

    text = str(annotation)
    if "list[float]" in text:
        return pa.list_(pa.float64())
    if "bool" in text:
        return pa.bool_()
    if "int" in text:
        return pa.int64()
    if "float" in text:
        return pa.float64()
    return pa.string()


def arrow_schema(model: type) -> object:
    """The Arrow schema of a pydantic contract model, field by field."""
    import pyarrow as pa

    return pa.schema([(name, _arrow_type(f.annotation)) for name, f in model.model_fields.items()])


class ParquetSink(_LatestTruth):
    """DIR/telemetry/part-NNNNN.parquet: the valid records as typed rows (exactly what a perfect
    ingest stores); DIR/rejected.parquet: everything else with its reason and raw bytes;
    DIR/groundtruth.parquet; DIR/report.json. Rows are written a row group at a time, so memory stays
    bounded however long the run."""

    def __init__(self, directory: str | Path, rows_per_file: int | None = None, cfg: Config | None = None,
                 row_group_rows: int | None = None):
        super().__init__()
        import pyarrow.json as pa_json

        cfg = cfg or settings()
        self.dir = Path(directory)
        self.rows_per_file = int(rows_per_file or cfg.get("sim.parquet_rows_per_file", 1_000_000))
        self.row_group_rows = min(self.rows_per_file, int(row_group_rows or
                                                          cfg.get("sim.parquet_row_group_rows", 50_000)))
        try:
            (self.dir / "telemetry").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SinkError(f"cannot create {self.dir}: {e.strerror}") from e
        stale = list((self.dir / "telemetry").glob("part-*.parquet"))
        if stale:
            raise SinkError(f"{self.dir / 'telemetry'} already holds {len(stale)} part file(s): "
                            "choose an empty directory or remove them")
        self.description = f"parquet:{self.dir}"
        self.schema = arrow_schema(Telemetry)
        self._parse_options = pa_json.ParseOptions(explicit_schema=self.schema, unexpected_field_behavior="error")
        self._read_options = pa_json.ReadOptions(block_size=1 << 24)
        self.pending: list[bytes] = []
        self.parts = 0
        self.writer = None
        self.rows_in_part = 0
        self.rejected: list[tuple[str, bytes, int, bytes]] = []

    def send(self, key: bytes, ts: int, payload: bytes, kind: str) -> None:
        if kind == "valid":
            self.send_valid([key], [ts], [payload])
        else:
            self.rejected.append((kind, key, ts, payload))

    def send_valid(self, keys: list[bytes], ts: list[int], payloads: list[bytes]) -> None:
        self.pending.extend(payloads)
        while len(self.pending) >= self._next_chunk():
            self._write_rows()

    def _next_chunk(self) -> int:
        return min(self.row_group_rows, self.rows_per_file - self.rows_in_part)

    def _write_rows(self) -> None:
        import pyarrow.json as pa_json
        import pyarrow.parquet as pq

        n = self._next_chunk()
        chunk, self.pending = self.pending[:n], self.pending[n:]
        # Arrow's own JSON reader: several times faster than building the table from Python dicts
        table = pa_json.read_json(io.BytesIO(b"\n".join(chunk)), read_options=self._read_options,
                                  parse_options=self._parse_options)
        if self.writer is None:
            path = self.dir / "telemetry" / f"part-{self.parts:05d}.parquet"
            self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        self.writer.write_table(table)
        self.rows_in_part += len(chunk)
        if self.rows_in_part >= self.rows_per_file:
            self._close_part()

    def _close_part(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self.parts += 1
            self.rows_in_part = 0

    def close(self, report: SimReport) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        while self.pending:
            self._write_rows()
        self._close_part()
        kinds, keys, ts, payloads = (list(c) for c in zip(*self.rejected, strict=True)) if self.rejected \
            else ([], [], [], [])
        pq.write_table(pa.table({
            "reason": pa.array(kinds, pa.string()),
            "vehicle_id": pa.array([k.decode() for k in keys], pa.string()),
            "ts": pa.array(ts, pa.int64()),
            "payload": pa.array(payloads, pa.binary()),
        }), self.dir / "rejected.parquet")
        pq.write_table(pa.Table.from_pylist(list(self.truth.values()), schema=arrow_schema(GroundTruth)),
                       self.dir / "groundtruth.parquet")
        (self.dir / "report.json").write_bytes(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2))


class KafkaSink:
    """Telemetry to one topic and ground truth to another, through the project's idempotent producer.
    Delivery failures surface at close() as connectors.kafka.DeliveryError."""

    def __init__(self, topic: str | None = None, groundtruth_topic: str | None = None,
                 cfg: Config | None = None, create_topics: bool = True):
        from confluent_kafka import KafkaException

        from connectors.kafka import KeyedSender, admin, ensure_topics, make_producer

        cfg = cfg or settings()
        self.topic = topic or cfg.topic("telemetry")
        self.truth_topic = groundtruth_topic or cfg.topic("groundtruth")
        try:
            admin(cfg).list_topics(timeout=float(cfg.get("sim.kafka_connect_timeout_s", 10)))
            if create_topics:
                parts = cfg.get("kafka.topics", {}) or {}
                prefix = cfg.get("kafka.topic_prefix")
                default = int(cfg.get("kafka.default_partitions", 1))

                def partitions(name: str) -> int:
                    return int(parts.get(name.removeprefix(prefix), default))

                ensure_topics([(self.topic, partitions(self.topic)),
                               (self.truth_topic, partitions(self.truth_topic))], cfg)
        except KafkaException as e:
            raise SinkError(f"cannot reach Kafka at {cfg.bootstrap} ({e}); start the local stack with "
                            "`aegis stack up`, or set AEGIS_KAFKA_BOOTSTRAP") from e
        producer = make_producer(cfg)
        self.telemetry = KeyedSender(self.topic, producer)
        self.truth_sender = KeyedSender(self.truth_topic, producer)
        self.producer = producer
        self.description = f"kafka:{self.topic} @ {cfg.bootstrap}"
        self._send = self.telemetry.send

    def send(self, key: bytes, ts: int, payload: bytes, kind: str) -> None:
        self._send(key, payload, ts)

    def send_valid(self, keys: list[bytes], ts: list[int], payloads: list[bytes]) -> None:
        """A batch of valid records (the hot path: one Python call per record fewer)."""
        send = self._send
        for k, t, p in zip(keys, ts, payloads, strict=True):
            send(k, p, t)

    def ground_truth(self, records: list[dict], ts: int) -> None:
        for r in records:
            self.truth_sender.send(r["vehicle_id"], orjson.dumps(r), ts)

    def poll(self) -> None:
        self.producer.poll(0)

    def close(self, report: SimReport) -> None:
        self.telemetry.flush()
        self.truth_sender.flush()


def open_sink(target: str, cfg: Config | None = None) -> Sink:
    """A sink from a --to target: kafka[:TOPIC], parquet:DIR, jsonl:FILE, or - (JSONL on stdout)."""
    kind, _, where = target.partition(":")
    if target == "-":
        return JsonlSink(None)
    if kind == "kafka":
        return KafkaSink(topic=where or None, cfg=cfg)
    if kind == "parquet":
        if not where:
            raise SinkError("parquet needs a directory: --to parquet:out/")
        return ParquetSink(where, cfg=cfg)
    if kind == "jsonl":
        if not where:
            raise SinkError("jsonl needs a file: --to jsonl:out/telemetry.jsonl (or --to - for stdout)")
        return JsonlSink(where)
    raise SinkError(f"unknown output {target!r}: use kafka, kafka:TOPIC, parquet:DIR, jsonl:FILE or -")
