"""`aegis exporter`: registered in the CLI, and a busy port is a user error, not a traceback."""

from __future__ import annotations

import socket

import pytest

from aegis.cli import CliError, build_parser, main


def test_exporter_command_is_registered() -> None:
    args = build_parser().parse_args(["exporter", "--port", "19999", "--start-from", "earliest", "--no-lag"])
    assert (args.command, args.port, args.start_from, args.no_lag) == ("exporter", 19999, "earliest", True)


def test_busy_port_is_a_cli_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # fails before any broker is contacted
        assert main(["exporter", "--port", str(port), "--bind", "127.0.0.1", "--no-lag"]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


def test_bad_setting_is_a_cli_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from aegis import config

    bad = config.load(environ={"AEGIS_EXPORTER__START_FROM": "middle"})
    monkeypatch.setattr(config, "settings", lambda: bad)
    with pytest.raises(CliError, match="exporter.start_from"):
        from exporters.cli import run

        run(build_parser().parse_args(["exporter"]))
