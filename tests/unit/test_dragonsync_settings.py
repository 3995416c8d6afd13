"""Collector settings (aegis.yaml `dragonsync:` + WarDragon Analytics' env vars) and kits.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from aegis import ROOT
from aegis.config import ConfigError, load
from connectors.dragonsync.kits import kits_yaml, load_kits, parse_kits
from connectors.dragonsync.settings import ENV_OVERRIDES, load_settings


def test_defaults_come_from_aegis_yaml():
    s = load_settings(load(environ={}), environ={})
    assert (s.poll_interval_s, s.status_poll_interval_s) == (5, 30)
    assert (s.initial_backoff_s, s.max_backoff_s) == (5, 300)
    assert s.stale_threshold_s == 60 and s.request_timeout_s == 10 and s.max_retries == 3
    assert s.kits_config == ROOT / "connectors" / "dragonsync" / "kits.yaml"


def test_wardragon_env_var_names_override_the_file():
    env = {"POLL_INTERVAL": "2", "STATUS_POLL_INTERVAL": "15", "REQUEST_TIMEOUT": "3",
           "MAX_RETRIES": "1", "INITIAL_BACKOFF": "1.5", "MAX_BACKOFF": "60", "STALE_THRESHOLD": "20",
           "KITS_CONFIG": "/etc/wardragon/kits.yaml"}
    assert set(env) == set(ENV_OVERRIDES)
    s = load_settings(load(environ={}), environ=env)
    assert (s.poll_interval_s, s.status_poll_interval_s, s.request_timeout_s, s.max_retries) == (2, 15, 3, 1)
    assert (s.initial_backoff_s, s.max_backoff_s, s.stale_threshold_s) == (1.5, 60, 20)
    assert s.kits_config == Path("/etc/wardragon/kits.yaml")


def test_aegis_prefixed_overrides_work_too():
    cfg = load(environ={"AEGIS_DRAGONSYNC__POLL_INTERVAL_S": "7"})
    assert load_settings(cfg, environ={}).poll_interval_s == 7


@pytest.mark.parametrize("env, message", [
    ({"POLL_INTERVAL": "fast"}, "expected a number"),
    ({"POLL_INTERVAL": "0"}, "poll_interval_s must be > 0"),
    ({"INITIAL_BACKOFF": "500"}, "must be >= initial_backoff_s"),
])
def test_bad_values_are_reported_by_key(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(load(environ={}), environ=env)


def test_shipped_kits_file_lists_the_ten_emulated_kits():
    kits = load_kits(ROOT / "connectors" / "dragonsync" / "kits.yaml")
    assert [k.id for k in kits] == [f"kit-{i:02d}" for i in range(10)]
    assert kits[3].api_url == "http://127.0.0.1:18091" and all(k.enabled for k in kits)


def test_kits_yaml_round_trip_and_wda_extras(tmp_path):
    doc = {"kits": [{"id": "kit-north", "name": "North", "api_url": "http://192.168.1.100:8088/",
                     "location": "gate 3", "enabled": True, "poll_interval": 10},
                    {"id": "kit-south", "api_url": "http://192.168.1.101:8088", "enabled": False}]}
    kits = parse_kits(doc)
    assert kits[0].api_url == "http://192.168.1.100:8088" and not kits[1].enabled
    path = tmp_path / "kits.yaml"
    path.write_text(kits_yaml(kits))
    assert load_kits(path) == kits


@pytest.mark.parametrize("doc, message", [
    ({"kits": "x"}, "top-level 'kits:' list"),
    ({"kits": [{"id": "a b", "api_url": "http://x"}]}, "'id' must be"),
    ({"kits": [{"id": "a", "api_url": "192.168.1.1:8088"}]}, "'api_url' must be an http"),
    ({"kits": [{"id": "a", "api_url": "http://x", "enabled": "yes"}]}, "'enabled' must be"),
    ({"kits": [{"id": "a", "api_url": "http://x"}, {"id": "a", "api_url": "http://y"}]}, "duplicate kit ids"),
])
def test_kits_yaml_errors_say_what_to_fix(doc, message):
    with pytest.raises(ConfigError, match=message):
        parse_kits(doc)


def test_missing_kits_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="--write-kits"):
        load_kits(tmp_path / "nope.yaml")
