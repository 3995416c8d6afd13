"""Where PyFlink's bundled Flink lives, and the rendered Flink configuration directory that the
MiniCluster, the standalone cluster, `flink run` and the SQL client all share."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import yaml

from aegis import ROOT
from aegis.config import Config, settings


def flink_home() -> Path:
    import pyflink

    return Path(pyflink.__file__).resolve().parent


def connector_jars(cfg: Config | None = None) -> list[Path]:
    cfg = cfg or settings()
    return sorted((cfg.state_dir / "lib" / "flink").glob("*.jar"))


def conf_dir(cfg: Config | None = None) -> Path:
    return (cfg or settings()).state_dir / "flink" / "conf"


def render_conf(cfg: Config | None = None) -> Path:
    """Write .aegis/flink/conf: PyFlink's log4j/logback files plus our config.yaml with paths filled."""
    cfg = cfg or settings()
    target = conf_dir(cfg)
    target.mkdir(parents=True, exist_ok=True)
    for src in (flink_home() / "conf").iterdir():
        if src.name != "config.yaml" and src.is_file():
            shutil.copyfile(src, target / src.name)
    text = (ROOT / "flink-conf" / "config.yaml").read_text()
    python = os.environ.get("AEGIS_PYTHON", sys.executable)
    text = text.replace("${STATE_DIR}", str(cfg.state_dir)).replace("${PYTHON}", python)
    ours = yaml.safe_load(text)
    ours["rest"]["port"] = int(cfg.get("flink.rest_port"))
    merged = _merge(yaml.safe_load((flink_home() / "conf" / "config.yaml").read_text()) or {}, ours)
    (target / "config.yaml").write_text(yaml.safe_dump(merged, sort_keys=False))
    for sub in ("checkpoints", "savepoints"):
        (cfg.state_dir / "flink" / sub).mkdir(parents=True, exist_ok=True)
    (cfg.state_dir / "logs" / "flink").mkdir(parents=True, exist_ok=True)
    (cfg.state_dir / "run").mkdir(parents=True, exist_ok=True)
    return target


def cluster_lib(cfg: Config | None = None) -> Path:
    """The standalone cluster's lib/: PyFlink's jars plus flink-python from opt/ (a cluster that runs
    Python UDFs needs it on its classpath; the wheel only ships it in opt/)."""
    cfg = cfg or settings()
    lib = cfg.state_dir / "flink" / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p for p in (flink_home() / "lib").glob("*.jar")}
    wanted.update({p.name: p for p in (flink_home() / "opt").glob("flink-python*.jar")})
    for stale in lib.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    for name, src in wanted.items():
        if not (lib / name).exists():
            (lib / name).symlink_to(src)
    return lib


def cluster_opt(cfg: Config | None = None) -> Path:
    """opt/ for Flink's scripts: PyFlink's opt jars plus the SQL gateway jar the SQL client needs."""
    cfg = cfg or settings()
    opt = cfg.state_dir / "flink" / "opt"
    opt.mkdir(parents=True, exist_ok=True)
    sources = [*(flink_home() / "opt").glob("*.jar"), *(cfg.state_dir / "lib" / "sql-client").glob("*.jar")]
    for src in sources:
        if not (opt / src.name).exists():
            (opt / src.name).symlink_to(src)
    return opt


def _merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for key, value in top.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def flink_env(cfg: Config | None = None) -> dict[str, str]:
    """Environment for Flink's scripts and for PyFlink's gateway JVM."""
    cfg = cfg or settings()
    env = dict(os.environ)
    env["FLINK_CONF_DIR"] = str(render_conf(cfg))
    env["FLINK_HOME"] = str(flink_home())
    env["FLINK_PLUGINS_DIR"] = str(flink_home() / "plugins")
    env["FLINK_LOG_DIR"] = str(cfg.state_dir / "logs" / "flink")
    env["FLINK_LIB_DIR"] = str(cluster_lib(cfg))
    env["FLINK_OPT_DIR"] = str(cluster_opt(cfg))
    # the venv's site-packages for Python workers started by a cluster outside this venv
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env
