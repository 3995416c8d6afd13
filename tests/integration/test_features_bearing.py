"""A gradual bearing failure from the simulator moves the features it should: vibration RMS and
kurtosis rise after onset on the worn machines (scored on the simulator's ground truth), and stay
put on the healthy ones. The backfill path end to end: simulator Parquet -> staging -> batch SQL."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from aegis.config import settings

pytestmark = pytest.mark.integration

START = 1_790_000_000_000
HOURS = 5
SCENARIO = {
    "name": "bearing-test",
    "fleets": [{"id": "plant-test", "mix": {"machine": 1.0}, "swarm_size": 10, "indoor": True,
                "base": {"lat": 52.5, "lon": 13.2}, "ambient_c": [19, 24]}],
    "failures": [{"mode": "bearing_wear", "share": 0.5, "onset": ["20%", "40%"], "time_to_failure": ["3h", "4h"]}],
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    from jobs.features import backfill
    from sim import SimConfig, open_sink, parse_scenario, run

    out = tmp_path_factory.mktemp("bearing")
    run(SimConfig(vehicles=4, duration_s=HOURS * 3600, seed=4, scenario=parse_scenario(SCENARIO), clean=True,
                  start_ms=START), open_sink(f"parquet:{out}/sim"))
    truth = {r["vehicle_id"]: r for r in pq.read_table(out / "sim" / "groundtruth.parquet").to_pylist()}
    backfill(settings(), f"parquet:{out}/sim", out / "features", START, START + HOURS * 3_600_000,
             extra={"parallelism.default": "1"})
    feats = pq.read_table(out / "features" / "features.parquet").to_pylist()
    return truth, feats


def _before_after(rows: list[dict], onset: int, end: int) -> tuple[dict, dict]:
    """Median features over full windows wholly before onset, and over the last hour of the run."""
    def med(sel, key):
        return float(np.median([r[key] for r in sel if r[key] is not None]))

    before = [r for r in rows if r["window_end"] <= onset and r["samples"] >= 3500]
    after = [r for r in rows if r["window_end"] > end - 3_600_000]
    assert before and after
    keys = ("vib_rms_long_g", "vib_kurtosis_long", "vib_rms_short_g")
    return {k: med(before, k) for k in keys}, {k: med(after, k) for k in keys}


def test_bearing_wear_raises_rms_and_kurtosis(scored):
    truth, feats = scored
    worn = [v for v, t in truth.items() if t["failure_mode"] == "bearing_wear"]
    healthy = [v for v, t in truth.items() if t["failure_mode"] is None]
    assert worn and healthy, truth
    end = START + HOURS * 3_600_000
    ratios = {}
    for vid in worn + healthy:
        onset = truth[vid]["onset_ts"] if vid in worn else START + 2 * 3_600_000
        before, after = _before_after([r for r in feats if r["vehicle_id"] == vid], onset, end)
        ratios[vid] = {k: after[k] / before[k] for k in before}
    for vid in worn:
        assert ratios[vid]["vib_rms_long_g"] > 1.5, (vid, ratios)
        assert ratios[vid]["vib_rms_short_g"] > 1.5, (vid, ratios)
        assert ratios[vid]["vib_kurtosis_long"] > 1.2, (vid, ratios)
    # scored on ground truth: every worn machine's rise exceeds every healthy machine's
    for key in ("vib_rms_long_g", "vib_kurtosis_long"):
        assert min(ratios[v][key] for v in worn) > max(ratios[v][key] for v in healthy), (key, ratios)
