"""The stack's failure messages say what is wrong and what to do; status exits non-zero when down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from aegis import ROOT
from aegis.config import load
from aegis.stack.services import Kafka, StackError, _run


def test_port_taken_by_a_stranger_names_the_port_and_the_setting(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        cfg = load(environ={"AEGIS_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}", "AEGIS_STATE_DIR": str(tmp_path)})
        with pytest.raises(StackError, match=rf"port {port} is taken.*AEGIS_KAFKA_BOOTSTRAP"):
            Kafka(cfg).start()


def test_missing_program_says_how_to_install_it():
    with pytest.raises(StackError, match="no-such-tool not found. apt-get install"):
        _run(["no-such-tool"], "probing", "apt-get install no-such-tool")


def test_status_exits_nonzero_and_names_what_is_down(tmp_path):
    env = {**os.environ, "AEGIS_KAFKA_BOOTSTRAP": "127.0.0.1:1", "AEGIS_PG_PORT": "2",
           "AEGIS_PROMETHEUS__PORT": "3", "AEGIS_FLINK__REST_PORT": "4", "AEGIS_PROMETHEUS__EXPORTER_PORT": "5",
           "AEGIS_STATE_DIR": str(tmp_path)}
    res = subprocess.run([sys.executable, "-m", "aegis.cli", "stack", "status"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert "DOWN" in res.stdout and "aegis stack up" in res.stderr


def test_cli_errors_are_one_line_with_exit_code_2():
    res = subprocess.run([sys.executable, "-m", "aegis.cli", "job", "run", "nope"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "unknown job 'nope'" in res.stderr and "Traceback" not in res.stderr


def test_kafka_cluster_ids_never_look_like_an_option() -> None:
    from aegis.stack.services import kafka_cluster_id

    ids = {kafka_cluster_id() for _ in range(2000)}     # about 31 would start with '-' by chance
    assert len(ids) == 2000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
