"""sql/features.sql in batch mode (a MiniCluster, no services) against a numpy/scipy reference, on
simulator telemetry plus vehicles built to hit the edges: heavy-tailed vibration, a linear
temperature trend, single-sample windows, empty short windows, constant input, and GPS tracks with
known noise, gaps and missing speeds."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson
import pytest

from aegis.config import settings
from tests.integration.features_reference import reference_features

pytestmark = pytest.mark.integration

START = 1_790_000_000_000          # a whole hour: windows line up with the slide
SLIDE_S, SHORT_S, LONG_S = 60, 300, 900
DURATION_S = 1200
MIN_RPM = 100.0
GPS_GAP_S = 5
GPS_SIGMA_M = 2.0
M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180


def _machine(vid: str, vib: np.ndarray, bearing: np.ndarray, power: np.ndarray, ts: np.ndarray) -> list[dict]:
    return [{"schema_version": 1, "vehicle_id": vid, "vehicle_type": "machine", "fleet_id": "plant-test",
             "ts": int(t), "seq": i, "vib_x_g": float(v[0]), "vib_y_g": float(v[1]), "vib_z_g": float(v[2]),
             "bearing_temp_c": float(b), "spindle_temp_c": 30.0 + 0.001 * i, "power_kw": float(p),
             "last_maintenance_ts": START - 86_400_000, "cycle_count": 1000 + i}
            for i, (t, v, b, p) in enumerate(zip(ts, vib, bearing, power, strict=True))]


def _ugv(vid: str, ts: np.ndarray, east_m: np.ndarray, north_m: np.ndarray, speed: list[float | None]) -> list[dict]:
    lat0, lon0 = 52.5, 13.4
    return [{"schema_version": 1, "vehicle_id": vid, "vehicle_type": "ugv", "fleet_id": "ground-test", "ts": int(t),
             "seq": i, "lat": lat0 + float(n) / M_PER_DEG_LAT,
             "lon": lon0 + float(e) / (M_PER_DEG_LAT * math.cos(math.radians(lat0))), "speed_mps": v,
             "battery_percent": 90.0 - 0.001 * i}
            for i, (t, e, n, v) in enumerate(zip(ts, east_m, north_m, speed, strict=True))]


def _gps_vehicles(rng: np.random.Generator) -> list[dict]:
    """Two UGVs driving east at 5 m/s: one on a clean track (jitter ~0), one with Gaussian position
    noise; the noisy one also has a 20 s gap (no pair across it), unreported speeds (the other
    record's alone, or no residual when both are missing) and records without a fix (no pair with
    their neighbours). No two records of a vehicle share a timestamp: which of two such records the
    next one pairs with is arrival order in streaming (see sql/features.sql)."""
    n = DURATION_S
    ts = START + np.arange(n) * 1000
    keep = (ts < START + 400_000) | (ts >= START + 420_000)
    ts = ts[keep]
    east = 5.0 * (ts - START) / 1000.0
    speed: list[float | None] = [5.0] * len(ts)
    for i in (100, 101, 250):
        speed[i] = None
    clean = _ugv("hv-gps-clean", ts, east, np.zeros(len(ts)), [5.0] * len(ts))
    noise = rng.normal(0.0, GPS_SIGMA_M, (len(ts), 2))
    noisy = _ugv("hv-gps-noisy", ts, east + noise[:, 0], noise[:, 1], speed)
    for i in (300, 301, 500):
        noisy[i]["lat"] = noisy[i]["lon"] = None
    return clean + noisy


def _records() -> list[dict]:
    from sim import SimConfig, generate

    recs = [orjson.loads(p) for _, _, p in generate(SimConfig(vehicles=4, duration_s=DURATION_S, seed=11,
                                                              clean=True, start_ms=START))]
    rng = np.random.default_rng(5)
    n = DURATION_S
    ts = START + np.arange(n) * 1000 + rng.integers(0, 1000, n)
    # heavy tails: Student t with 3 degrees of freedom has infinite kurtosis; the sample's is large
    recs += _machine("hv-heavy", 0.02 * rng.standard_t(3, (n, 3)), 40 + 0.01 * np.arange(n),
                     5 + 0.3 * rng.standard_normal(n), ts)
    # constant vibration and power: kurtosis and deviation z are undefined (NULL), not noise
    recs += _machine("hv-flat", np.full((n, 3), 0.01), np.full(n, 35.0), np.full(n, 4.0), ts)
    # a sparse vehicle: one record, then two close together ten minutes later
    sparse_ts = np.array([START + 10_500, START + 610_250, START + 611_000])
    recs += _machine("hv-sparse", rng.standard_normal((3, 3)) * 0.05, np.array([30.0, 31.0, 33.0]),
                     np.array([1.0, 2.0, 4.0]), sparse_ts)
    return recs + _gps_vehicles(rng)


@pytest.fixture(scope="module")
def computed(tmp_path_factory) -> tuple[dict, dict]:
    from jobs.features import FEATURE_COLUMNS, batch_features, stage_records

    recs = _records()
    staged = tmp_path_factory.mktemp("features") / "telemetry"
    stage_records(recs, staged)
    rows = list(batch_features(staged, settings(), {"parallelism.default": "1"}, FEATURES_SLIDE_S=SLIDE_S,
                               FEATURES_SHORT_S=SHORT_S, FEATURES_LONG_S=LONG_S, FEATURES_MIN_MEAN_RPM=MIN_RPM,
                               FEATURES_GPS_MAX_GAP_MS=GPS_GAP_S * 1000))
    assert list(rows[0]) == FEATURE_COLUMNS, "features_rows' columns are the dataset's"
    got = {(r["vehicle_id"], r["window_end"]): r for r in rows}
    assert len(got) == len(rows), "one row per vehicle and window end"
    return got, reference_features(recs, SLIDE_S, SHORT_S, LONG_S, MIN_RPM, GPS_GAP_S)


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    # different arithmetic (running raw moments vs. two-pass numpy): agreement to 1e-7 relative,
    # or 1e-9 absolute for values that are differences of near-equal means
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9)


def test_same_windows(computed):
    got, ref = computed
    assert set(got) == set(ref)


FEATURES = ["window_start", "samples", "samples_short", "vib_rms_short_g", "vib_rms_long_g", "vib_kurtosis_long",
            "motor_temp_mean_c", "motor_temp_rate_c_min", "battery_temp_mean_c", "battery_temp_rate_c_min",
            "bearing_temp_mean_c", "bearing_temp_rate_c_min", "power_kw_short", "power_kw_baseline",
            "power_dev_z", "current_a_short", "current_a_baseline", "current_dev_z", "battery_drain_pct_min",
            "time_since_maintenance_s", "cycles", "motor_rpm_cv", "gps_hdop_mean", "gps_jitter_m", "vehicle_type",
            "fleet_id"]


@pytest.mark.parametrize("feature", FEATURES)
def test_feature_matches_reference(computed, feature):
    got, ref = computed
    bad = [(k, got[k][feature], ref[k][feature]) for k in sorted(ref) if k in got
           and not (got[k][feature] == ref[k][feature] if isinstance(ref[k][feature], str)
                    else _close(got[k][feature], ref[k][feature]))]
    assert not bad, f"{len(bad)} windows differ, e.g. {bad[:3]}"


def test_every_feature_is_exercised(computed):
    """The comparison above means something only if each feature has real values somewhere."""
    got, _ = computed
    for feature in FEATURES:
        assert any(r[feature] is not None for r in got.values()), feature


def test_heavy_tails_raise_kurtosis(computed):
    got, _ = computed
    heavy = [r["vib_kurtosis_long"] for (v, _), r in got.items() if v == "hv-heavy" and r["samples"] >= 600]
    assert heavy and min(heavy) > 5, heavy[:5]


def test_edge_windows(computed):
    got, _ = computed
    sparse = {end: r for (v, end), r in got.items() if v == "hv-sparse"}
    one = [r for r in sparse.values() if r["samples"] == 1]
    assert one and all(r["vib_kurtosis_long"] is None for r in one)
    assert all(r["vib_rms_long_g"] is not None for r in one)
    # windows whose last five minutes are empty: short features NULL, samples_short 0
    empty_short = [r for r in sparse.values() if r["samples_short"] == 0]
    assert empty_short and all(r["vib_rms_short_g"] is None and r["bearing_temp_rate_c_min"] is None
                               for r in empty_short)
    # no record in the whole window: no row
    assert all(r["samples"] >= 1 for r in got.values())
    flat = [r for (v, _), r in got.items() if v == "hv-flat"]
    assert flat and all(r["vib_kurtosis_long"] is None and r["power_dev_z"] is None for r in flat)


def test_linear_trend_rate(computed):
    """bearing temperature rises 0.01 °C/s = 0.6 °C/min: exact once a window is fully covered."""
    got, _ = computed
    full = [r for (v, _), r in got.items() if v == "hv-heavy" and r["samples"] == LONG_S]
    assert full
    for r in full:
        assert r["bearing_temp_rate_c_min"] == pytest.approx(0.6, rel=1e-2)


def test_gps_jitter(computed):
    """The clean track's residuals are rounding noise; the noisy one's RMS is about the noise of the
    difference of two fixes' along-track positions (sqrt(2) sigma), within sampling error."""
    got, _ = computed
    clean = [r["gps_jitter_m"] for (v, _), r in got.items() if v == "hv-gps-clean" and r["samples_short"] > 100]
    noisy = [r["gps_jitter_m"] for (v, _), r in got.items() if v == "hv-gps-noisy" and r["samples_short"] > 100]
    assert clean and max(clean) < 0.01, clean[:5]
    assert noisy and 0.5 * GPS_SIGMA_M < float(np.median(noisy)) < 2.5 * GPS_SIGMA_M, noisy[:5]
    # machines have no fixes: no jitter
    assert all(r["gps_jitter_m"] is None for (v, _), r in got.items() if v.startswith("hv-") and "gps" not in v)


def test_staged_parquet_roundtrip(tmp_path: Path):
    """stage_parquet writes the simulator's Parquet rows as the CSV the batch source reads: the
    columns of sql/tables/telemetry_files.sql, each value exactly as stored."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from jobs.features import stage_parquet, staged_columns
    from sim import SimConfig, open_sink, run

    run(SimConfig(vehicles=2, duration_s=30, seed=1, clean=True, start_ms=START), open_sink(f"parquet:{tmp_path}/sim"))
    n = stage_parquet(tmp_path / "sim", tmp_path / "staged", START + 10_000, START + 20_000)
    names = [c for c, _ in staged_columns()]
    staged = pcsv.read_csv(tmp_path / "staged" / "part-00000.csv",
                           read_options=pcsv.ReadOptions(column_names=names)).to_pylist()
    src = [r for r in pq.read_table(tmp_path / "sim" / "telemetry").to_pylist()
           if START + 10_000 <= r["ts"] < START + 20_000]
    assert n == len(staged) == len(src) > 0
    for got, want in zip(staged, src, strict=True):
        assert got["ts"] == want["ts"] and got["lat"] == want["lat"] and got["vib_x_g"] == want["vib_x_g"]
        rpm = [float(x) for x in got["motor_rpm"].split(";")] if got["motor_rpm"] else None
        assert rpm == want["motor_rpm"]
    assert any(r["motor_rpm"] for r in staged), "the array path ran"
