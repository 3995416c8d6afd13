"""Read the Grafana dashboards and pull out every query they send, ready to run elsewhere.

    from monitoring.dashboards import extract_queries, render_promql, render_sql
    for q in extract_queries():                       # every PromQL and SQL query of every dashboard
        if q.kind == "promql":
            run_promql(render_promql(q.text, {"vehicle_id": "d-001", "fleet_id": ["f1"]}))
        else:
            run_sql(render_sql(q.text, start, end, {"vehicle_id": "d-001", "severity": ["critical"]}))

Grafana expands its macros ($__timeFilter, $__rate_interval, ...) and template variables before a
query reaches Prometheus or PostgreSQL; render_promql/render_sql do the same for the ones the
dashboards use, and raise on any they do not know, so nothing half-expanded is ever sent.

`DashboardQuery.requires` names what must be running for the query to return data (REQUIREMENTS);
an integration test can expect data from every query whose requirements it has started.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DASHBOARDS_DIR = Path(__file__).resolve().parent / "grafana" / "dashboards"
DATASOURCES_DIR = Path(__file__).resolve().parent / "grafana" / "provisioning" / "datasources"

PROMETHEUS_UID = "prometheus"
POSTGRES_UID = "timescaledb"

#: values of a target's "requires": beyond the health job and the exporter, what must run or happen
REQUIREMENTS = {
    "flink": "a Flink cluster with the Prometheus reporter and at least one running job",
    "lag": "a consumer group (matching exporter.lag) that has committed offsets",
    "aggregated": "records on aegis.aggregated (fleet/swarm aggregates)",
    "job-alerts": "at least one record on aegis.alerts since the exporter started",
    "firing": "at least one Prometheus alert pending or firing",
    "flying": "the selected vehicle is of a flying type (exporter.altitude_vehicle_types)",
    "battery-estimate": "battery records with drain rate / remaining flight time",
    "ml": "the predictions and drift tables of the maintenance and drift jobs (later issue)",
    "inference": "records on aegis.inference (the vision job, a later issue; or a test producing them)",
}

Variables = Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class DashboardQuery:
    dashboard: str              # file stem, e.g. "vehicle-detail"
    source: str                 # "panel", "variable" or "annotation"
    panel_id: int | None
    title: str                  # panel title, variable name or annotation name
    kind: str                   # "promql" or "sql"
    text: str                   # as in the JSON: macros and $variables unexpanded
    format: str | None = None   # SQL: "time_series" or "table"
    requires: tuple[str, ...] = ()


def load_dashboards(folder: Path = DASHBOARDS_DIR) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def iter_panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def datasource_uid(obj: Mapping[str, Any]) -> str | None:
    ds = obj.get("datasource")
    return ds.get("uid") if isinstance(ds, dict) else ds


def provisioned_uids(folder: Path = DATASOURCES_DIR) -> set[str]:
    import yaml

    uids = set()
    for path in folder.glob("*.y*ml"):
        for ds in (yaml.safe_load(path.read_text()) or {}).get("datasources", []):
            uids.add(ds["uid"])
    return uids


def _kind(uid: str | None) -> str | None:
    return {PROMETHEUS_UID: "promql", POSTGRES_UID: "sql"}.get(uid or "")


def label_values_selector(definition: str) -> str:
    """`label_values(metric{...}, label)` -> `metric{...}` (the series the variable lists)."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", definition, re.S)
    if not m:
        raise ValueError(f"not a label_values() variable query: {definition!r}")
    return m.group(1).strip()


def dashboard_queries(name: str, dashboard: Mapping[str, Any]) -> list[DashboardQuery]:
    out: list[DashboardQuery] = []
    for p in iter_panels(dashboard):
        for t in p.get("targets", []):
            kind = _kind(datasource_uid(t) or datasource_uid(p))
            text = t.get("expr") if kind == "promql" else t.get("rawSql")
            if kind is None or not text:
                continue
            out.append(DashboardQuery(name, "panel", p["id"], p.get("title", ""), kind, text,
                                      t.get("format") if kind == "sql" else None,
                                      tuple(t.get("requires", ()))))
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "query" and _kind(datasource_uid(v)) == "promql":
            definition = v.get("definition") or v["query"]["query"]
            out.append(DashboardQuery(name, "variable", None, v["name"], "promql",
                                      label_values_selector(definition), None,
                                      tuple(v.get("requires", ()))))
    for a in dashboard.get("annotations", {}).get("list", []):
        kind = _kind(datasource_uid(a))
        target = a.get("target", {})
        text = (target.get("expr") or a.get("expr")) if kind == "promql" else target.get("rawSql")
        if kind and text:
            out.append(DashboardQuery(name, "annotation", None, a.get("name", ""), kind, text,
                                      target.get("format") if kind == "sql" else None,
                                      tuple(target.get("requires", ()))))
    return out


def extract_queries(folder: Path = DASHBOARDS_DIR) -> list[DashboardQuery]:
    """Every PromQL expression and SQL query of every dashboard under `folder`."""
    return [q for name, d in load_dashboards(folder).items() for q in dashboard_queries(name, d)]


def promql_queries(folder: Path = DASHBOARDS_DIR) -> list[DashboardQuery]:
    return [q for q in extract_queries(folder) if q.kind == "promql"]


def sql_queries(folder: Path = DASHBOARDS_DIR) -> list[DashboardQuery]:
    return [q for q in extract_queries(folder) if q.kind == "sql"]


# --- template variables -----------------------------------------------------------------------

#: $name, ${name}, ${name:format}, [[name]]
VARIABLE_RE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)\]\]")


def referenced_variables(obj: Any) -> set[str]:
    """Names of template variables used anywhere in a JSON value (Grafana's `$__*` excluded)."""
    found: set[str] = set()
    if isinstance(obj, str):
        for m in VARIABLE_RE.finditer(obj):
            name = m.group(1) or m.group(3) or m.group(4)
            if not name.startswith("__"):
                found.add(name)
    elif isinstance(obj, dict):
        for value in obj.values():
            found |= referenced_variables(value)
    elif isinstance(obj, list):
        for value in obj:
            found |= referenced_variables(value)
    return found


def defined_variables(dashboard: Mapping[str, Any]) -> set[str]:
    return {v["name"] for v in dashboard.get("templating", {}).get("list", [])}


def _values(variables: Variables, name: str) -> list[str]:
    if name not in variables:
        raise KeyError(f"no value given for template variable ${name}")
    value = variables[name]
    return [value] if isinstance(value, str) else list(value)


def _promql_regex_escape(value: str) -> str:
    """Escape regex metacharacters inside a PromQL string literal: the backslash itself must be
    doubled there (Grafana's prometheusSpecialRegexEscape does the same)."""
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", value)


def _substitute(text: str, variables: Variables, fmt_default: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3) or m.group(4)
        if name.startswith("__"):
            return m.group(0)
        values = _values(variables, name)
        fmt = m.group(2) or fmt_default
        if fmt == "sqlstring":
            return ",".join("'" + v.replace("'", "''") + "'" for v in values)
        if fmt == "regex":
            escaped = [_promql_regex_escape(v) for v in values]
            return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
        if fmt == "raw":
            return ",".join(values)
        raise ValueError(f"unsupported variable format {fmt!r} in {m.group(0)}")

    return VARIABLE_RE.sub(one, text)


def _reject_leftovers(text: str) -> str:
    left = re.findall(r"\$__\w+", text)
    if left:
        raise ValueError(f"unexpanded Grafana macros {sorted(set(left))} in: {text}")
    return text


# --- PromQL -----------------------------------------------------------------------------------

def render_promql(expr: str, variables: Variables | None = None, *, rate_interval: str = "1m",
                  interval: str = "15s", range_: str = "1h") -> str:
    """Expand Grafana's interval macros and the template variables (multi-values as a regex
    alternation, as Grafana does for Prometheus)."""
    for macro, value in (("$__rate_interval", rate_interval), ("$__interval", interval),
                         ("$__range", range_)):
        expr = expr.replace(macro, value)
    return _reject_leftovers(_substitute(expr, variables or {}, "regex"))


# --- SQL --------------------------------------------------------------------------------------

def _interval_seconds(text: str) -> int:
    m = re.fullmatch(r"'?(\d+)([smhd])'?", text.strip())
    if not m:
        raise ValueError(f"unsupported interval {text!r}")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def render_sql(query: str, start: datetime, end: datetime, variables: Variables | None = None) -> str:
    """Expand the PostgreSQL macros the dashboards use ($__timeFilter, $__timeFrom, $__timeTo,
    $__timeGroup, $__timeGroupAlias) the way Grafana's PostgreSQL datasource does, then the
    template variables (a plain $var is its value; ${var:sqlstring} a quoted list)."""
    frm, to = f"'{_iso(start)}'", f"'{_iso(end)}'"

    def group(m: re.Match[str], alias: bool) -> str:
        column, seconds = m.group(1).strip(), _interval_seconds(m.group(2))
        expr = f"floor(extract(epoch from {column})/{seconds})*{seconds}"
        return f'{expr} AS "time"' if alias else expr

    query = re.sub(r"\$__timeFilter\(([^)]+)\)",
                   lambda m: f"{m.group(1).strip()} BETWEEN {frm} AND {to}", query)
    query = re.sub(r"\$__timeGroupAlias\(([^,]+),([^)]+)\)", lambda m: group(m, True), query)
    query = re.sub(r"\$__timeGroup\(([^,]+),([^)]+)\)", lambda m: group(m, False), query)
    query = query.replace("$__timeFrom()", frm).replace("$__timeTo()", to)
    return _reject_leftovers(_substitute(query, variables or {}, "raw"))
