"""docker-compose.yml stays valid: `docker compose config` where the plugin exists, and always a
structural check (references resolve, mounted files exist, secrets come from the environment)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from aegis import ROOT

COMPOSE = ROOT / "docker-compose.yml"
SECRETS = {"AEGIS_PG_PASSWORD": "x", "GRAFANA_ADMIN_PASSWORD": "x", "MINIO_ROOT_USER": "x", "MINIO_ROOT_PASSWORD": "x"}


def spec() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_have_an_image_and_resolvable_dependencies():
    services = spec()["services"]
    assert {"redpanda", "jobmanager", "taskmanager", "timescaledb", "prometheus", "grafana", "mlflow",
            "minio"} <= set(services)
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
        deps = svc.get("depends_on", [])
        for dep in deps if isinstance(deps, list) else deps.keys():
            assert dep in services, f"{name} depends on unknown {dep}"


def test_named_volumes_are_declared_and_bind_mounts_exist():
    doc = spec()
    for name, svc in doc["services"].items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (ROOT / src).exists(), f"{name} mounts missing {src}"
            else:
                assert src in doc["volumes"], f"{name} uses undeclared volume {src}"
    build = doc["services"]["jobmanager"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).exists()


def test_no_secret_literals_only_environment_references():
    text = COMPOSE.read_text()
    for key in SECRETS:
        for m in re.finditer(rf"^\s+{key}:\s*(\S+)", text, flags=re.M):
            assert m.group(1).startswith("${"), f"{key} must come from the environment, not {m.group(1)}"


@pytest.mark.skipif(shutil.which("docker") is None, reason="docker client absent")
def test_docker_compose_config_when_the_plugin_exists():
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("docker compose plugin absent; the structural checks above stand in")
    res = subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                         env={**SECRETS, "PATH": "/usr/bin:/bin:/usr/local/bin"})
    assert res.returncode == 0, res.stderr
