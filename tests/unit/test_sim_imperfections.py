"""Stream imperfections: measured rates match the configured ones, every record is exactly what the
report says it is (valid, a duplicate, or malformed in one named way), and the counts add up."""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache

import numpy as np
import orjson
import pytest

from aegis.contracts import DLQ_REASONS, Telemetry
from sim import MemorySink, SimConfig, Simulation, dead_letter_reason, load_scenario
from sim.malform import MALFORMERS, malform
from sim.runner import validation_ranges

START = 1_750_000_000_000
NOW = START + 86_400_000
MAX_FUTURE = 300_000


@lru_cache(maxsize=1)
def dirty_run():
    sim = Simulation(SimConfig(vehicles=40, duration_s=400, seed=5, scenario="dirty", start_ms=START))
    sink = MemorySink()
    report = sim.run(sink)
    return sim, sink, report


def within(measured: int, trials: int, rate: float, sigmas: float = 4.0) -> bool:
    expected = trials * rate
    return abs(measured - expected) <= sigmas * math.sqrt(trials * rate * (1 - rate)) + 1


def test_report_counts_match_what_was_sent():
    _, sink, report = dirty_run()
    kinds = Counter(kind for *_, kind in sink.records)
    assert kinds["valid"] == report.valid
    assert kinds["duplicate_seq"] == report.duplicate_seq
    assert {k: v for k, v in kinds.items() if k not in ("valid", "duplicate_seq")} == \
        {k: v for k, v in report.malformed.items() if v}
    assert len(sink.records) == report.sent
    assert sum(report.dead_letters.values()) + report.valid == report.sent
    assert set(report.dead_letters) == set(DLQ_REASONS)
    d = report.to_dict()
    assert d["expected_stored"] == report.valid and d["sent"] == report.sent


def test_every_record_is_exactly_what_the_report_says():
    """Judged by an independent reference check: valid records validate, each malformed one carries
    one defect of its kind, and duplicates are byte-identical re-sends of earlier valid records."""
    sim, sink, _ = dirty_run()
    seen: dict[tuple[str, int], bytes] = {}
    for key, ts, payload, kind in sink.records:
        reason = dead_letter_reason(payload, sim.ranges, NOW, MAX_FUTURE)
        if kind == "valid":
            assert reason is None, payload
            record = Telemetry.model_validate_json(payload)
            ident = (record.vehicle_id, record.seq)
            assert ident not in seen, "a valid record was sent twice"
            seen[ident] = payload
            assert key == record.vehicle_id.encode() and ts == record.ts
        elif kind == "duplicate_seq":
            assert reason is None
            record = orjson.loads(payload)
            assert seen[(record["vehicle_id"], record["seq"])] == payload
        else:
            assert reason == kind, (kind, reason, payload[:200])


def test_the_ingest_validator_agrees():
    """The ingest job's own parser gives every record the reason the simulator reported."""
    tv = pytest.importorskip("udfs.telemetry_validate")
    from aegis.config import settings

    rules = tv.Rules.from_config(settings().get("validation"))
    sim, sink, _ = dirty_run()
    for _, _, payload, kind in sink.records:
        verdict = tv.validate(payload, rules, NOW)
        assert verdict.reason == (None if kind in ("valid", "duplicate_seq") else kind), (kind, verdict)


def test_malformed_and_duplicate_rates():
    sim, sink, report = dirty_run()
    imp = sim.imperfections
    generated = report.valid + sum(report.malformed.values())       # one per vehicle per tick sent
    assert within(sum(report.malformed.values()), generated, imp.malformed_rate)
    weights = {k: w for k, w in imp.malformed_kinds.items() if w > 0}
    total_w = sum(weights.values())
    n_bad = sum(report.malformed.values())
    for kind, w in weights.items():
        assert within(report.malformed.get(kind, 0), n_bad, w / total_w), kind
    assert within(report.duplicate_seq, report.valid, imp.duplicate_rate)


def test_out_of_order_late_and_jitter_rates_measured_from_the_stream():
    sim, sink, report = dirty_run()
    imp = sim.imperfections
    phase = {p.vehicle_id: int(sim.fleet.phase_ms[p.index]) for p in sim.plans}
    newest: dict[str, int] = {}
    behind, late, jittered, shifts, n = 0, 0, 0, [], 0
    for _, _, payload, kind in sink.records:
        if kind != "valid":
            continue
        r = orjson.loads(payload)
        n += 1
        vid, seq = r["vehicle_id"], r["seq"]
        if seq < newest.get(vid, -1):
            behind += 1
            if newest[vid] - seq > imp.out_of_order_max_s:
                late += 1
        newest[vid] = max(newest.get(vid, -1), seq)
        shift = r["ts"] - (START + 1000 * seq + phase[vid])
        if shift:
            jittered += 1
            shifts.append(shift)
    assert within(late, n, imp.late_rate)
    assert within(behind - late, n, imp.out_of_order_rate, sigmas=5)
    assert report.late == pytest.approx(late, abs=5)
    # a zero shift is a jitter of less than half a millisecond: rare at 200 ms
    assert within(jittered, n, imp.jitter_rate)
    assert np.std(shifts) == pytest.approx(imp.jitter_ms, rel=0.1)
    assert max(abs(s) for s in shifts) <= 3 * imp.jitter_ms


def test_clean_runs_are_perfect():
    sim = Simulation(SimConfig(vehicles=8, duration_s=120, seed=5, scenario="dirty", start_ms=START, clean=True))
    sink = MemorySink()
    report = sim.run(sink)
    assert report.valid == report.sent == 8 * 120
    assert {kind for *_, kind in sink.records} == {"valid"}


def test_overrides_change_one_rate():
    sim = Simulation(SimConfig(vehicles=8, duration_s=200, seed=5, scenario="clean", start_ms=START,
                               imperfection_overrides={"malformed_rate": 0.1}))
    report = sim.run(MemorySink())
    assert within(sum(report.malformed.values()), 1600, 0.1)
    assert report.duplicate_seq == 0 and report.out_of_order == 0


# ---------------------------------------------------------------------------- malformation, one by one
@pytest.fixture(scope="module")
def valid_payloads():
    sim = Simulation(SimConfig(vehicles=8, duration_s=3, seed=2, scenario="default", start_ms=START, clean=True))
    sink = MemorySink()
    sim.run(sink)
    return [p for *_, p, _ in sink.records]


@pytest.mark.parametrize("kind", sorted(MALFORMERS))
def test_each_malformation_has_exactly_its_reason(kind, valid_payloads):
    ranges = validation_ranges(__import__("aegis.config", fromlist=["settings"]).settings())
    rng = np.random.default_rng(0)
    for payload in valid_payloads:
        for _ in range(25):
            bad = malform(kind, payload, rng, ranges)
            assert dead_letter_reason(bad, ranges, NOW, MAX_FUTURE) == kind, bad[:300]
            assert b"\n" not in bad


def test_malformed_kinds_cover_every_reason_but_duplicates():
    # late_record is the features job's reason (timing, not content): no record can be malformed into it
    assert set(MALFORMERS) == set(DLQ_REASONS) - {"duplicate_seq", "late_record"}


def test_default_scenario_rates_are_modest():
    imp = load_scenario("default").imperfections
    assert imp.malformed_rate <= 0.01 and imp.duplicate_rate <= 0.01
