"""What every job shares: a configured TableEnvironment and the project's SQL, loaded and run.

Settings come from flink-conf/config.yaml (rendered into .aegis/flink/conf) so a job behaves the
same on the MiniCluster (`python -m jobs.X`) and on a cluster (`flink run -py jobs/X.py`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import yaml

from aegis.config import Config, settings
from aegis.sqlfiles import load, sql_vars, table_ddl
from aegis.stack import flinkenv

log = logging.getLogger(__name__)

# keys that only make sense for cluster processes; a MiniCluster must not see them
_CLUSTER_ONLY = ("jobmanager.", "taskmanager.", "rest.", "env.", "heartbeat.")


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def flink_settings(cfg: Config | None = None) -> dict[str, str]:
    cfg = cfg or settings()
    conf = flinkenv.render_conf(cfg) / "config.yaml"
    flat = _flatten(yaml.safe_load(conf.read_text()))
    flat = {k: v for k, v in flat.items() if not k.startswith(_CLUSTER_ONLY)}
    flat["parallelism.default"] = str(cfg.get("flink.parallelism"))
    flat["execution.checkpointing.interval"] = f"{int(cfg.get('flink.checkpoint_interval_ms'))}ms"
    flat["python.execution-mode"] = str(cfg.get("flink.python_execution_mode"))
    flat["table.local-time-zone"] = "UTC"
    return flat


def stream_env(job_name: str, cfg: Config | None = None, parallelism: int | None = None,
               extra: dict[str, str] | None = None):
    """A StreamTableEnvironment with the project's Flink settings and connector jars."""
    cfg = cfg or settings()
    os.environ.setdefault("FLINK_CONF_DIR", str(flinkenv.render_conf(cfg)))
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import EnvironmentSettings, StreamTableEnvironment

    jars = flinkenv.connector_jars(cfg)
    if not jars:
        raise RuntimeError(f"no connector jars in {cfg.state_dir / 'lib' / 'flink'}: run `aegis stack up` "
                           "(it resolves them with Maven from flink-conf/pom.xml)")
    conf = Configuration()
    for key, value in {**flink_settings(cfg), **(extra or {})}.items():
        conf.set_string(key, value)
    conf.set_string("pipeline.name", job_name)
    conf.set_string("pipeline.jars", ";".join(p.as_uri() for p in jars))
    if parallelism:
        conf.set_string("parallelism.default", str(parallelism))
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    t_env = StreamTableEnvironment.create(env, EnvironmentSettings.in_streaming_mode())
    for key, value in {**flink_settings(cfg), **(extra or {})}.items():
        if key.startswith(("table.", "python.")):
            t_env.get_config().set(key, value)
    t_env.get_config().set("pipeline.name", job_name)
    return t_env


def create_tables(t_env, names: list[str], variables: dict[str, str]) -> None:
    for name in names:
        for stmt in table_ddl(name, variables):
            t_env.execute_sql(stmt)


def add_statements(t_env, stmt_set, relpath: str, variables: dict[str, str]) -> int:
    """Run a job's SQL file: views and DDL now, INSERTs into the statement set. Returns #inserts."""
    inserts = 0
    for stmt in load(relpath, variables):
        if stmt.upper().startswith("INSERT"):
            stmt_set.add_insert_sql(stmt)
            inserts += 1
        else:
            t_env.execute_sql(stmt)
    return inserts


def execute(stmt_set, wait: bool):
    """Submit a job's statement set; with `wait`, block until it ends (bounded runs, MiniCluster)."""
    result = stmt_set.execute()
    if wait:
        result.wait()
    return result


def job_main(run: Callable[..., Any], doc: str | None, argv: list[str] | None = None) -> int:
    """The command line every job shares: `python -m jobs.X` / `flink run -py jobs/X.py [options]`."""
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--bounded", action="store_true", help="stop at the topics' current end")
    parser.add_argument("--parallelism", type=int, default=None)
    parser.add_argument("--detach", action="store_true", help="submit and return (cluster)")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="override a SQL variable, e.g. TOPIC_TELEMETRY=my.topic (repeatable)")
    args, _ = parser.parse_known_args(argv)
    run(bounded=args.bounded, parallelism=args.parallelism, wait=not args.detach, **parse_vars(args.var))
    return 0


def parse_vars(pairs: list[str]) -> dict[str, str]:
    """`NAME=VALUE` command-line pairs -> SQL variable overrides."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--var expects NAME=VALUE, got {pair!r}")
        out[name] = value
    return out


__all__ = ["execute", "job_main", "parse_vars", "stream_env", "create_tables", "add_statements", "sql_vars",
           "flink_settings"]
