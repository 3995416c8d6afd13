"""The kit emulator: DragonSync's response shapes, routing quirks, faults and the served ledger."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from connectors.dragonsync import world
from connectors.dragonsync.emulator import (
    EmulatorConfig,
    EmulatorThread,
    Fault,
    FaultSpecError,
    parse_fault,
    parse_faults,
)
from connectors.dragonsync.normalize import (
    Rejected,
    dedupe_key,
    normalize_drone,
    normalize_signal,
    normalize_status,
)

T = 1767225600.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    try:
        with _OPENER.open(url, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


# --- fault specs ----------------------------------------------------------------------------------

def test_fault_specs_parse():
    assert parse_fault("3=offline:10:30") == ("3", Fault("offline", start_s=10, duration_s=30))
    assert parse_fault("kit-02=http500:0.25") == ("kit-02", Fault("http500", probability=0.25))
    assert parse_fault("1=429:1:5") == ("1", Fault("429", probability=1.0, retry_after_s=5))
    assert parse_fault("0=status503:20") == ("0", Fault("status503", duration_s=20))
    assert parse_faults(["1=timeout,2=malformed:0.5", "1=http500"]) == {
        "1": [Fault("timeout"), Fault("http500")], "2": [Fault("malformed", probability=0.5)]}


@pytest.mark.parametrize("spec, message", [
    ("http500", "expected KIT=KIND"), ("1=explode", "kind must be one of"), ("1=offline:10", "START:LENGTH"),
    ("1=http500:2", "probability"), ("1=status503", "SECONDS"), ("1=http500:x", "numbers")])
def test_bad_fault_specs_say_what_is_wrong(spec, message):
    with pytest.raises(FaultSpecError, match=message):
        parse_fault(spec)


def test_faults_for_kits_that_do_not_exist_are_refused():
    with pytest.raises(FaultSpecError, match="do not exist"):
        EmulatorThread(EmulatorConfig(n_kits=2, faults=parse_faults(["5=http500"])))


# --- the world: DragonSync's shapes ---------------------------------------------------------------

KIT = world.kit_profile(0, n_kits=4, started_at=T - 600)


def test_drones_response_mixes_rid_drones_and_adsb_aircraft_in_dragonsyncs_shape():
    items = world.drones_body(KIT, T, n_kits=4)["drones"]
    drones = [i for i in items if i["track_type"] == "drone"]
    aircraft = [i for i in items if i["track_type"] == "aircraft"]
    assert drones and len(aircraft) == KIT.n_aircraft
    for d in drones:
        assert d["id"].startswith("drone-") and "heading" not in d and isinstance(d["rid"], dict)
        assert isinstance(d["observed_at"], float)
        assert "seconds past the hour" in d["timestamp"] or d["id"] == "drone-alert"
    for a in aircraft:
        assert a["callsign"] == a["id"] == f"adsb-{a['hex'].lower()}" and a["source"] == "adsb"
        assert {"ground_speed", "track", "alt", "last_update_time"} <= set(a) and "speed" not in a
        assert a["alt"] > 1000      # feet


def test_signals_and_status_shapes():
    sig = world.signals_body(KIT, T)["signals"][0]
    assert sig["center_hz"] > 5e9 and "freq" not in sig and "freq_mhz" not in sig
    assert 0 <= sig["pal_conf"] <= 100 and sig["radius_m"] == 15.0
    status = world.status_body(KIT, T)
    assert {"memory_total", "memory_available", "disk_total", "disk_used", "uptime", "gps_fix",
            "last_update_time", "gpsd_time_utc"} <= set(status)
    assert not any(k.endswith("percent") for k in status)
    assert world.status_body(KIT, KIT.started_at + 1)["kit_id"] == "wardragon-unknown"
    assert world.status_body(world.kit_profile(0, n_kits=4), T)["pluto_temp"] == "N/A"


def test_everything_the_world_serves_normalises_without_a_reject():
    for t in (T, T + 7.3, T + 3600):
        for index in range(4):
            kit = world.kit_profile(index, n_kits=4, started_at=T - 600)
            results = [normalize_drone(d, kit.kit_id) for d in world.drones_body(kit, t, 4)["drones"]]
            results += [normalize_signal(s, kit.kit_id) for s in world.signals_body(kit, t)["signals"]]
            results.append(normalize_status(world.status_body(kit, t), kit.kit_id))
            assert not [r for r in results if isinstance(r, Rejected)]


def test_observations_repeat_within_a_tick_and_move_on_the_next():
    a, b = world.drones_body(KIT, T + 0.1, 4), world.drones_body(KIT, T + 0.9, 4)
    assert a == b
    c = world.drones_body(KIT, T + 1.1, 4)
    key = lambda body: {dedupe_key(normalize_drone(d, "k")) for d in body["drones"]}  # noqa: E731
    assert not key(a) & key(c)


def test_neighbouring_kits_see_the_shared_drone_at_the_same_time():
    k0, k1 = (world.kit_profile(i, n_kits=4) for i in (0, 1))
    ids0 = {d["id"] for d in world.drones_body(k0, T, 4)["drones"]}
    ids1 = {d["id"] for d in world.drones_body(k1, T, 4)["drones"]}
    assert "drone-SHARED00000" in ids0 & ids1


# --- over HTTP ------------------------------------------------------------------------------------

def test_endpoints_routing_and_the_served_ledger():
    with EmulatorThread(EmulatorConfig(n_kits=2)) as emu:
        kit = emu.kits()[0]
        code, headers, body = get(f"{kit.api_url}/drones?limit=1")
        assert code == 200 and headers["Content-Type"].startswith("application/json")
        drones = json.loads(body)["drones"]
        assert get(f"{kit.api_url}/dronesXYZ")[0] == 200        # DragonSync routes with startswith
        assert get(f"{kit.api_url}/nothing")[0] == 404
        for path in ("/signals", "/status", "/config", "/update/check"):
            code, _, body = get(kit.api_url + path)
            assert code == 200 and isinstance(json.loads(body), dict)
        served = emu.served_keys(kit.id)
        expected = {dedupe_key(normalize_drone(d, kit.id)) for d in drones}
        assert expected <= served["drones"] and served["system_health"]
        assert emu.served_keys(emu.kits()[1].id)["drones"] == set()   # nothing asked of kit 1


def test_injected_http_faults():
    faults = parse_faults(["0=http500", "1=429:1:7", "2=malformed", "3=status503:3600"])
    with EmulatorThread(EmulatorConfig(n_kits=4, faults=faults)) as emu:
        k0, k1, k2, k3 = emu.kits()
        code, _, body = get(f"{k0.api_url}/drones")
        assert (code, json.loads(body)) == (500, {"error": "export failed"})
        code, headers, body = get(f"{k1.api_url}/signals")
        assert (code, headers["Retry-After"]) == (429, "7")
        assert json.loads(body) == {"error": "rate limit exceeded"}
        code, _, body = get(f"{k2.api_url}/drones")
        assert code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)
        assert get(f"{k3.api_url}/status")[:1] == (503,) and get(f"{k3.api_url}/drones")[0] == 200
        assert emu.served_keys(k2.id)["drones"] == set()              # garbage is not "served records"
        assert emu.status_counts(k2.id) == {("/drones", -200): 1}


def test_dragonsync_rate_limit_answers_429_with_retry_after_60():
    with EmulatorThread(EmulatorConfig(n_kits=1, rate_limit_per_min=3)) as emu:
        url = emu.kits()[0].api_url + "/status"
        assert [get(url)[0] for _ in range(3)] == [200, 200, 200]
        code, headers, _ = get(url)
        assert code == 429 and headers["Retry-After"] == "60"


def test_a_kit_goes_offline_and_comes_back_on_the_same_port():
    with EmulatorThread(EmulatorConfig(n_kits=1, faults=parse_faults(["0=offline:0:0.5"]))) as emu:
        url = emu.kits()[0].api_url + "/status"
        with pytest.raises(OSError):    # connection refused
            get(url, timeout=2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                assert get(url)[0] == 200
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the kit did not come back")
        assert emu.kits()[0].api_url + "/status" == url


def test_a_hanging_kit_does_not_answer_within_the_clients_timeout():
    faults = parse_faults(["0=timeout"])
    with EmulatorThread(EmulatorConfig(n_kits=1, faults=faults, hang_s=5)) as emu:
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            get(emu.kits()[0].api_url + "/drones", timeout=0.3)
