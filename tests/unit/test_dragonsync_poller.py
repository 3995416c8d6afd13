"""The poller against in-process emulated kits over loopback, with a list as its sink (no Kafka).

Intervals are shrunk to tenths of seconds; the run stops once every kit has shown what it is
tested for (or after a bounded time), and assertions use the poller's own recorded decisions, never
measured durations."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path

import orjson
import pytest
from prometheus_client import generate_latest

from connectors.dragonsync.emulator import EmulatorConfig, EmulatorThread, parse_faults
from connectors.dragonsync.kit_state import KitState, Outcome, backoff_delay
from connectors.dragonsync.kits import Kit
from connectors.dragonsync.normalize import Rejected, Row, dedupe_key, normalize_envelope
from connectors.dragonsync.poller import Poller, retry_after_seconds
from connectors.dragonsync.settings import CollectorSettings

TOPICS = {"drones": "t.drones", "signals": "t.signals", "status": "t.status"}
SETTINGS = CollectorSettings(
    kits_config=Path("unused"), poll_interval_s=0.15, status_poll_interval_s=0.4, request_timeout_s=0.5,
    max_retries=1, retry_delay_s=0.01, initial_backoff_s=0.1, max_backoff_s=0.4, stale_threshold_s=0.6,
    stats_interval_s=0.5, shutdown_grace_s=5.0)
FAULTS = ["1=http500", "2=offline:0:1.2", "3=malformed:0.5", "4=429:1:1", "5=status503:0.5", "6=timeout"]


class ListSink:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, bytes, int]] = []

    def __call__(self, topic: str, key: str, value: bytes, ts: int) -> None:
        self.records.append((topic, key, value, ts))

    def envelopes(self, kit: str, topic: str | None = None) -> list[dict]:
        return [orjson.loads(v) for t, k, v, _ in self.records if k == kit and (topic is None or t == topic)]


def done(poller: Poller) -> bool:
    by_kit = defaultdict(list)
    for e in poller.events:
        by_kit[e.kit_id].append(e)
    ok = lambda k: any(e.outcome is Outcome.OK for e in by_kit[k])   # noqa: E731
    return (sum(e.outcome is Outcome.OK for e in by_kit["kit-00"]) >= 6
            and sum(e.outcome is Outcome.HTTP_ERROR for e in by_kit["kit-01"]) >= 8
            and ok("kit-02") and ok("kit-03") and ok("kit-05")
            and poller.views["kit-04"].tracker.state is KitState.STALE
            and sum(e.outcome is Outcome.UNREACHABLE for e in by_kit["kit-06"]) >= 2)


@pytest.fixture(scope="module")
def run():
    """Poll 7 kits (one healthy, six failing in different ways) until each has shown its behaviour."""
    cfg = EmulatorConfig(n_kits=7, faults=parse_faults(FAULTS), tick_s=0.1, hang_s=3.0, serial_delay_s=0.3)
    sink = ListSink()
    with EmulatorThread(cfg) as emu:
        poller = Poller(emu.kits(), SETTINGS, TOPICS, sink, keep_events=10_000)

        async def main() -> None:
            stop = asyncio.Event()

            async def watch() -> None:
                deadline = time.monotonic() + 15
                while not done(poller) and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                stop.set()

            watcher = asyncio.create_task(watch())
            await poller.run(stop)
            await watcher

        asyncio.run(main())
        served = {k.id: emu.served_keys(k.id) for k in emu.kits()}
        counts = {k.id: emu.status_counts(k.id) for k in emu.kits()}
    return poller, sink, served, counts


def test_the_run_saw_every_behaviour_before_stopping(run):
    poller, *_ = run
    assert done(poller)


def test_every_record_a_healthy_kit_served_was_forwarded_and_normalises_once(run):
    poller, sink, served, _ = run
    for kit in ("kit-00", "kit-05"):
        got = defaultdict(set)
        for _, key, value, _ in sink.records:
            if key == kit:
                for r in normalize_envelope(value):
                    assert not isinstance(r, Rejected), r
                    if r.table != "kits":
                        got[r.table].add(dedupe_key(r))
        assert served[kit]["drones"] and got["drones"] == served[kit]["drones"]
        assert got["signals"] == served[kit]["signals"]
        assert got["system_health"] == served[kit]["system_health"]


def test_envelopes_are_keyed_by_kit_and_stamped(run):
    _, sink, *_ = run
    assert {k for _, k, _, _ in sink.records} <= {f"kit-{i:02d}" for i in range(7)}
    for topic, key, value, ts in sink.records:
        env = orjson.loads(value)
        assert env["kit_id"] == key and env["poll_time"] == ts
        assert topic == TOPICS["status" if env["kind"] == "kit_state" else env["kind"]]
        if env["kind"] in ("drones", "signals") and "body" in env and env["body"][env["kind"]]:
            assert env["observed_at"] <= env["poll_time"]


def test_http_500_kit_is_in_error_and_backs_off_on_schedule(run):
    poller, sink, _, counts = run
    events = [e for e in poller.events if e.kit_id == "kit-01"]
    assert {e.outcome for e in events} == {Outcome.HTTP_ERROR}
    assert {e.state for e in events} == {KitState.ERROR}
    assert [e.failures for e in events] == list(range(1, len(events) + 1))
    for e in events:
        assert e.not_before - e.at == pytest.approx(backoff_delay(e.failures, 0.1, 0.4))
    for before, after in zip(events, events[1:], strict=False):
        assert after.at >= before.not_before          # never polled during its backoff
    # each failed request was retried once (MAX_RETRIES=1)
    assert sum(counts["kit-01"].values()) == 2 * len(events)
    kit_rows = [r.values for _, k, v, _ in sink.records if k == "kit-01" for r in normalize_envelope(v)
                if isinstance(r, Row) and r.table == "kits"]
    assert kit_rows and kit_rows[-1]["status"] == "error" and kit_rows[-1]["last_error"] == "HTTP 500"


def test_kit_that_went_offline_backs_off_then_comes_back_online(run):
    poller, sink, served, _ = run
    events = [e for e in poller.events if e.kit_id == "kit-02"]
    down = [e for e in events if e.outcome is Outcome.UNREACHABLE]
    assert down and all(e.state is KitState.OFFLINE for e in down)
    for e in down:
        assert e.not_before - e.at == pytest.approx(backoff_delay(e.failures, 0.1, 0.4))
    first_ok = next(i for i, e in enumerate(events) if e.outcome is Outcome.OK)
    assert all(e.outcome is Outcome.UNREACHABLE for e in events[:first_ok])
    assert events[-1].state is KitState.ONLINE
    states = [env["kit_state"] for env in sink.envelopes("kit-02", TOPICS["status"])]
    assert "offline" in states and states[-1] == "online"
    assert served["kit-02"]["drones"]


def test_hanging_kit_times_out_and_is_offline(run):
    poller, *_ = run
    events = [e for e in poller.events if e.kit_id == "kit-06"]
    assert events and {e.outcome for e in events} == {Outcome.UNREACHABLE}
    assert poller.views["kit-06"].tracker.state is KitState.OFFLINE


def test_malformed_responses_are_forwarded_for_the_dead_letter_queue(run):
    poller, sink, _, counts = run
    malformed_served = sum(n for (path, code), n in counts["kit-03"].items()
                           if code == -200 and path in ("/drones", "/signals"))
    raw = [env for env in sink.envelopes("kit-03") if "body_raw" in env and env["kind"] != "status"]
    assert malformed_served and len(raw) == malformed_served
    rejected = [r for _, k, v, _ in sink.records if k == "kit-03" for r in normalize_envelope(v)
                if isinstance(r, Rejected)]
    assert rejected and {r.reason for r in rejected} == {"invalid_json"}
    assert any(e.outcome is Outcome.MALFORMED and e.state is KitState.ERROR
               for e in poller.events if e.kit_id == "kit-03")


def test_429_retry_after_is_honoured_and_the_kit_goes_stale(run):
    poller, *_ = run
    events = [e for e in poller.events if e.kit_id == "kit-04"]
    assert events and {e.outcome for e in events} == {Outcome.RATE_LIMITED}
    for before, after in zip(events, events[1:], strict=False):
        assert after.at - before.at >= 1.0 - 1e-9       # Retry-After: 1
    assert all(e.failures == 0 for e in events)        # a 429 is not a failure


def test_status_503_before_the_first_report_does_not_stop_polling(run):
    poller, sink, *_ = run
    statuses = sink.envelopes("kit-05", TOPICS["status"])
    assert statuses[0]["http_status"] == 503 and statuses[0]["kit_state"] == "online"
    assert any(s["http_status"] == 200 for s in statuses)
    assert sink.envelopes("kit-05", TOPICS["drones"])
    # the id the kit reports becomes known once it has read its serial ("wardragon-unknown" before)
    reported = [s["reported_kit_id"] for s in statuses]
    assert reported[0] is None and reported[-1].startswith("wardragon-WD")


def test_prometheus_metrics_are_exported(run):
    poller, *_ = run
    text = generate_latest(poller.metrics.registry).decode()
    assert 'aegis_dragonsync_requests_total{endpoint="drones",kit="kit-00",outcome="ok"}' in text
    assert 'aegis_dragonsync_kit_state{kit="kit-01",state="error"} 1.0' in text
    assert 'aegis_dragonsync_kit_state{kit="kit-00",state="online"} 1.0' in text
    assert "aegis_dragonsync_kit_success_ratio" in text and "aegis_dragonsync_records_total" in text


def test_disabled_kits_are_not_polled():
    kits = [Kit("a", "http://127.0.0.1:9"), Kit("b", "http://127.0.0.1:9", enabled=False)]
    assert list(Poller(kits, SETTINGS, TOPICS, ListSink()).views) == ["a"]


def test_retry_after_header_forms():
    now = 1767225600.0
    assert retry_after_seconds("60", now) == 60
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:30 GMT", now) == pytest.approx(30)
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None
