"""The local stack's components: each installs what it needs, starts, reports health, stops.

Production runs the same roles from docker-compose.yml (Redpanda, TimescaleDB, Prometheus, Flink);
here every component comes from a registry this machine reaches: Kafka jars from Maven Central,
PostgreSQL and Prometheus from Debian, Flink from the PyFlink wheel.
"""

from __future__ import annotations

import base64
import glob
import logging
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from aegis import ROOT
from aegis.config import Config
from aegis.stack import flinkenv
from aegis.stack.process import port_open, read_pid, spawn, tail, terminate, wait_until

log = logging.getLogger(__name__)

POM = ROOT / "flink-conf" / "pom.xml"


class StackError(RuntimeError):
    """A component cannot be installed or started; the message says what to do."""


@dataclass
class Status:
    name: str
    ok: bool
    version: str
    address: str
    detail: str = ""


def _run(cmd: list[str], what: str, fix: str, **kwargs) -> subprocess.CompletedProcess:
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    except FileNotFoundError as e:
        raise StackError(f"{what}: {cmd[0]} not found. {fix}") from e
    if res.returncode != 0:
        out = (res.stdout + res.stderr).strip().splitlines()[-15:]
        raise StackError(f"{what} failed (exit {res.returncode}). {fix}\n  " + "\n  ".join(out))
    return res


def _apt_install(package: str, binary: str) -> None:
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise StackError(f"{binary} is missing: install the Debian package '{package}' "
                         f"(sudo apt-get install -y {package}) and run again")
    log.info("installing %s from Debian (apt-get) ...", package)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lists = Path("/var/lib/apt/lists")
    if not any(lists.glob("*Packages*")):
        _run(["apt-get", "update", "-qq"], "apt-get update", "check the Debian mirror is reachable", env=env)
    try:
        _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
             f"apt-get install {package}", "check the Debian mirror is reachable", env=env)
    except StackError:
        _run(["apt-get", "update", "-qq"], "apt-get update", "check the Debian mirror is reachable", env=env)
        _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
             f"apt-get install {package}", "check the Debian mirror is reachable", env=env)


def resolve_jars(profile: str, target: Path) -> list[Path]:
    """Copy the jars of one pom profile into target with Maven (idempotent: skipped when present)."""
    jars = sorted(target.glob("*.jar"))
    if jars:
        return jars
    if shutil.which("mvn") is None:
        raise StackError("Maven (mvn) is missing: apt-get install -y maven, then run again")
    log.info("resolving %s jars from Maven Central into %s ...", profile, target)
    target.mkdir(parents=True, exist_ok=True)
    _run(["mvn", "-q", "-B", "-f", str(POM), "-P", profile, "dependency:copy-dependencies",
          f"-DoutputDirectory={target}", "-DincludeScope=runtime"],
         f"resolving {profile} jars", "Is Maven Central reachable? (mvn -B help:system) "
         "A proxy goes in ~/.m2/settings.xml.")
    return sorted(target.glob("*.jar"))


def kafka_cluster_id() -> str:
    """A random KRaft cluster id: 16 bytes, URL-safe base64. Like Kafka's own Uuid.randomUuid, never
    one that starts with '-', which the storage tool's argument parser would take for an option."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


class Service:
    name = ""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.state = cfg.state_dir
        self.pid_file = self.state / "run" / f"{self.name}.pid"
        self.log_file = self.state / "logs" / f"{self.name}.log"

    def install(self) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> bool:
        return terminate(self.pid_file)

    def status(self) -> Status:
        raise NotImplementedError

    def _claim_port(self, port: int, setting: str) -> bool:
        """True when our own daemon already serves the port; error when a stranger holds it."""
        if not port_open(port):
            return False
        if read_pid(self.pid_file) is not None:
            return True
        raise StackError(f"port {port} is taken by another process, so {self.name} cannot start. "
                         f"Stop that process (ss -ltnp 'sport = :{port}'), or move {self.name} "
                         f"with {setting}")


class Kafka(Service):
    """Apache Kafka 4.x in KRaft mode (one combined broker+controller), jars from Maven Central."""

    name = "kafka"

    @property
    def port(self) -> int:
        return int(self.cfg.bootstrap.rsplit(":", 1)[1])

    @property
    def lib(self) -> Path:
        return self.state / "lib" / "kafka"

    def install(self) -> None:
        resolve_jars("kafka-broker", self.lib)

    def _write_config(self) -> Path:
        home = self.state / "kafka"
        home.mkdir(parents=True, exist_ok=True)
        ctrl = int(self.cfg.get("kafka.controller_port"))
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{ctrl}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{ctrl}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(home / "data"),
            "num.partitions": str(self.cfg.get("kafka.default_partitions")),
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            # Flink's exactly-once sink holds transactions open up to its checkpoint timeout
            "transaction.max.timeout.ms": "3600000",
            "group.initial.rebalance.delay.ms": "0",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "log.retention.hours": "72",
        }
        path = home / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        log4j = home / "log4j2.properties"
        log4j.write_text(
            "rootLogger.level = INFO\nrootLogger.appenderRef.stdout.ref = STDOUT\n"
            "appender.stdout.type = Console\nappender.stdout.name = STDOUT\n"
            "appender.stdout.layout.type = PatternLayout\n"
            "appender.stdout.layout.pattern = [%d] %p %m (%c)%n\n"
            "logger.kafka.name = kafka\nlogger.kafka.level = WARN\n"
            "logger.apache.name = org.apache.kafka\nlogger.apache.level = WARN\n"
            "logger.server.name = kafka.server.KafkaServer\nlogger.server.level = INFO\n")
        return path

    def _java(self, main: str, *args: str) -> list[str]:
        home = self.state / "kafka"
        return ["java", "-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
                f"-Dkafka.logs.dir={self.state / 'logs'}",
                "-cp", f"{self.lib}/*", main, *args]

    def start(self) -> None:
        if self._claim_port(self.port, "AEGIS_KAFKA_BOOTSTRAP=127.0.0.1:<port>"):
            return
        if shutil.which("java") is None:
            raise StackError("java is missing: apt-get install -y openjdk-17-jre-headless")
        config = self._write_config()
        if not (self.state / "kafka" / "data" / "meta.properties").exists():
            _run(self._java("kafka.tools.StorageTool", "format", "-t", kafka_cluster_id(), "-c", str(config)),
                 "formatting Kafka storage", f"see {self.state / 'kafka'}; `aegis stack down --purge` resets it")
        spawn(self._java("kafka.Kafka", str(config)), self.log_file, self.pid_file)
        if not wait_until(lambda: self._healthy(), 90):
            raise StackError(f"Kafka did not come up on {self.cfg.bootstrap} within 90 s. "
                             f"Last log lines ({self.log_file}):\n{tail(self.log_file)}")
        from connectors.kafka import configured_topics, ensure_topics

        created = ensure_topics(configured_topics(self.cfg), self.cfg)
        if created:
            log.info("created %d topics", len(created))

    def _healthy(self) -> bool:
        if not port_open(self.port):
            return False
        try:
            from connectors.kafka import admin

            admin(self.cfg).list_topics(timeout=3)
            return True
        except Exception:
            return False

    def status(self) -> Status:
        jars = sorted(self.lib.glob("kafka_2.13-*.jar"))
        version = jars[0].stem.split("-", 1)[1] if jars else "not installed"
        ok = self._healthy()
        detail = ""
        if ok:
            from connectors.kafka import admin

            topics = admin(self.cfg).list_topics(timeout=3).topics
            ours = [t for t in topics if t.startswith(self.cfg.get("kafka.topic_prefix"))]
            detail = f"KRaft, {len(ours)} aegis topics"
        return Status("kafka", ok, version, self.cfg.bootstrap, detail)


class Postgres(Service):
    """A private PostgreSQL cluster under the state folder (Debian's server binaries)."""

    name = "postgres"

    @property
    def port(self) -> int:
        return int(self.cfg.get("postgres.port"))

    @property
    def data(self) -> Path:
        return self.state / "postgres" / "data"

    def _bindir(self) -> Path | None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        return Path(found[-1]).parent if found else None

    def install(self) -> None:
        if self._bindir() is None:
            _apt_install("postgresql", "PostgreSQL server (initdb)")
        if self._bindir() is None:
            raise StackError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")

    def _as_owner(self, cmd: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root; run it as the Debian 'postgres' user then.
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd

    def start(self) -> None:
        if self._claim_port(self.port, "AEGIS_PG_PORT=<port>"):
            return
        bindir = self._bindir()
        assert bindir is not None
        root = self.state / "postgres"
        root.mkdir(parents=True, exist_ok=True)
        password = str(self.cfg.get("postgres.password"))
        if not (self.data / "PG_VERSION").exists():
            pwfile = root / ".pwfile"
            pwfile.write_text(password + "\n")
            if os.geteuid() == 0:
                shutil.chown(root, "postgres", "postgres")
                shutil.chown(pwfile, "postgres", "postgres")
            pwfile.chmod(0o600)
            _run(self._as_owner([str(bindir / "initdb"), "-D", str(self.data), "-U", str(self.cfg.get("postgres.user")),
                                 "--auth-host=scram-sha-256", "--auth-local=trust", f"--pwfile={pwfile}",
                                 "-E", "UTF8", "--locale=C.UTF-8"]),
                 "initdb", f"see {root}; `aegis stack down --purge` resets it")
            pwfile.unlink()
            with open(self.data / "postgresql.conf", "a") as f:
                # a dev/test cluster: durable enough (fsync on), faster commits for upsert sinks
                f.write("\nsynchronous_commit = off\nshared_buffers = 256MB\nmax_connections = 200\n"
                        "max_wal_size = 2GB\nlisten_addresses = '127.0.0.1'\n")
        if os.geteuid() == 0:
            for path in (root, self.log_file.parent):
                path.mkdir(parents=True, exist_ok=True)
            subprocess.run(["chown", "-R", "postgres:postgres", str(root)], check=True)
            self.log_file.touch()
            shutil.chown(self.log_file, "postgres", "postgres")
        _run(self._as_owner([str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_file), "-w", "-t", "60",
                             "-o", f"-p {self.port} -k {root}", "start"]),
             "starting PostgreSQL", f"see {self.log_file}")
        pid = (self.data / "postmaster.pid").read_text().split()[0]
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(pid)
        self._ensure_database()

    def _ensure_database(self) -> None:
        import psycopg

        pg = self.cfg.get("postgres")
        with psycopg.connect(host=pg["host"], port=pg["port"], user=pg["user"], password=pg["password"],
                             dbname="postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (pg["database"],)).fetchone():
                conn.execute(f'CREATE DATABASE "{pg["database"]}"')

    def stop(self) -> bool:
        bindir = self._bindir()
        if bindir is None or not (self.data / "postmaster.pid").exists():
            self.pid_file.unlink(missing_ok=True)
            return False
        subprocess.run(self._as_owner([str(bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> Status:
        import psycopg

        address = f"{self.cfg.get('postgres.host')}:{self.port}/{self.cfg.get('postgres.database')}"
        try:
            with psycopg.connect(self.cfg.pg_dsn(), connect_timeout=3) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
                from aegis.db.migrate import storage_mode

                mode = storage_mode(conn)
            return Status("postgres", True, version, address, mode)
        except Exception as e:
            return Status("postgres", False, "?", address, str(e).strip().splitlines()[0][:120])


class Prometheus(Service):
    """Debian's Prometheus, scraping the exporter and Flink's reporter (monitoring/prometheus.yml)."""

    name = "prometheus"

    @property
    def port(self) -> int:
        return int(self.cfg.get("prometheus.port"))

    def install(self) -> None:
        if shutil.which("prometheus") is None or shutil.which("promtool") is None:
            _apt_install("prometheus", "prometheus/promtool")

    def start(self) -> None:
        if self._claim_port(self.port, "AEGIS_PROMETHEUS__PORT=<port>"):
            return
        config = ROOT / "monitoring" / "prometheus.yml"
        if not config.exists():
            raise StackError(f"{config} is missing")
        data = self.state / "prometheus"
        data.mkdir(parents=True, exist_ok=True)
        spawn(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
               f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-lifecycle",
               "--storage.tsdb.retention.time=2d"], self.log_file, self.pid_file)
        if not wait_until(lambda: self._get("/-/ready") is not None, 30):
            raise StackError(f"Prometheus did not become ready; see {self.log_file}:\n{tail(self.log_file)}")

    def _get(self, path: str) -> requests.Response | None:
        try:
            res = requests.get(f"http://127.0.0.1:{self.port}{path}", timeout=2)
            return res if res.ok else None
        except requests.RequestException:
            return None

    def status(self) -> Status:
        res = self._get("/api/v1/status/buildinfo")
        version = res.json()["data"]["version"] if res else "?"
        ready = self._get("/-/ready") is not None
        return Status("prometheus", ready, version, f"http://127.0.0.1:{self.port}", "ready" if ready else "down")


class FlinkCluster(Service):
    """A local standalone Flink cluster from PyFlink's bundled bin/start-cluster.sh."""

    name = "flink"

    @property
    def port(self) -> int:
        return int(self.cfg.get("flink.rest_port"))

    def _script(self, name: str) -> list[str]:
        return ["bash", str(flinkenv.flink_home() / "bin" / name)]

    def start(self) -> None:
        if port_open(self.port):
            overview = self._overview()
            if overview is not None and overview.get("taskmanagers", 0) >= 1:
                return
            if overview is not None:        # the JobManager outlived its TaskManager (e.g. out of memory)
                self._start_taskmanager()
                return
            raise StackError(f"port {self.port} is taken by another process, so the Flink REST API cannot "
                             f"start. Stop it, or move Flink with AEGIS_FLINK__REST_PORT=<port>")
        env = flinkenv.flink_env(self.cfg)
        _run(self._script("start-cluster.sh"), "start-cluster.sh", f"see {self.state / 'logs' / 'flink'}", env=env)
        if not wait_until(lambda: (self._overview() or {}).get("taskmanagers", 0) >= 1, 90):
            raise StackError(f"Flink cluster did not register a TaskManager within 90 s; "
                             f"see logs in {self.state / 'logs' / 'flink'}")

    def _start_taskmanager(self) -> None:
        env = flinkenv.flink_env(self.cfg)
        _run(self._script("taskmanager.sh") + ["start"], "taskmanager.sh start",
             f"see {self.state / 'logs' / 'flink'}", env=env)
        if not wait_until(lambda: (self._overview() or {}).get("taskmanagers", 0) >= 1, 90):
            raise StackError(f"the Flink TaskManager did not register within 90 s; "
                             f"see logs in {self.state / 'logs' / 'flink'}")

    def stop(self) -> bool:
        if self._overview() is None:
            return False
        subprocess.run(self._script("stop-cluster.sh"), env=flinkenv.flink_env(self.cfg), capture_output=True)
        return True

    def _overview(self) -> dict | None:
        try:
            res = requests.get(f"http://127.0.0.1:{self.port}/overview", timeout=2)
            return res.json() if res.ok else None
        except (requests.RequestException, ValueError):
            return None

    def status(self) -> Status:
        ov = self._overview()
        address = f"http://127.0.0.1:{self.port}"
        if ov is None:
            return Status("flink", False, "?", address, "down")
        detail = (f"{ov.get('taskmanagers', 0)} TaskManager(s), {ov.get('slots-available', 0)} free slots, "
                  f"{ov.get('jobs-running', 0)} job(s) running")
        return Status("flink", ov.get("taskmanagers", 0) >= 1, ov.get("flink-version", "?"), address, detail)


class Exporter(Service):
    """`aegis exporter`: result topics -> Prometheus metrics (exporters/)."""

    name = "exporter"

    @property
    def port(self) -> int:
        return int(self.cfg.get("prometheus.exporter_port"))

    def start(self) -> None:
        if self._claim_port(self.port, "AEGIS_PROMETHEUS__EXPORTER_PORT=<port>"):
            return
        spawn([sys.executable, "-m", "aegis.cli", "exporter"], self.log_file, self.pid_file, cwd=ROOT)
        if not wait_until(lambda: self._metrics() is not None, 30):
            raise StackError(f"the exporter did not serve /metrics; see {self.log_file}:\n{tail(self.log_file)}")

    def _metrics(self) -> str | None:
        try:
            res = requests.get(f"http://127.0.0.1:{self.port}/metrics", timeout=2)
            return res.text if res.ok else None
        except requests.RequestException:
            return None

    def status(self) -> Status:
        text = self._metrics()
        tracked = ""
        if text:
            for line in text.splitlines():
                if line.startswith("aegis_exporter_tracked_vehicles "):
                    tracked = f"{float(line.split()[1]):.0f} vehicles tracked"
        return Status("exporter", text is not None, "aegis", f"http://127.0.0.1:{self.port}/metrics",
                      tracked or ("down" if text is None else ""))


def connector_jars(cfg: Config) -> list[Path]:
    resolve_jars("flink-sql-client", cfg.state_dir / "lib" / "sql-client")
    return resolve_jars("flink-connectors", cfg.state_dir / "lib" / "flink")


SERVICES: dict[str, type[Service]] = {
    "kafka": Kafka,
    "postgres": Postgres,
    "prometheus": Prometheus,
    "flink": FlinkCluster,
    "exporter": Exporter,
}
