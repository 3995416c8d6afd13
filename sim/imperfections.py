"""Real-world imperfections between the vehicles and the broker, with exact accounting.

Per record, in this order: timestamp jitter (before encoding); replacement by a malformed record
(one defect of one kind); holding back for 1..out_of_order_max_s seconds (out of order) or
late_delay_s seconds (late); and, once a valid record has really been sent, a byte-identical copy
sent again 0..duplicate_delay_s seconds later (the ingest job dead-letters it as duplicate_seq).
Malformed records are never held back or duplicated, so every record sent is exactly one of:
valid, a duplicate of a valid record sent earlier, or malformed in one reported way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from sim.malform import malform
from sim.scenario import Imperfections

Emit = Callable[[bytes, int, bytes, str], None]   # key, ts, payload, kind ("valid", "duplicate_seq", reason)
EmitMany = Callable[[list[bytes], list[int], list[bytes]], None]   # a batch of valid records


class Imperfector:
    def __init__(self, spec: Imperfections, seed: np.random.SeedSequence, ranges: dict, emit: Emit,
                 emit_valid: EmitMany | None = None):
        self.spec = spec
        self.emit_valid = emit_valid
        # jitter is drawn as ticks are simulated, the rest as they are sent: two streams, so that
        # encoding many ticks at once gives the same records as encoding one at a time
        jitter_seed, send_seed = seed.spawn(2)
        self.jitter_rng = np.random.default_rng(jitter_seed)
        self.rng = np.random.default_rng(send_seed)
        self.ranges = ranges
        self.emit = emit
        kinds = [k for k, w in spec.malformed_kinds.items() if w > 0]
        weights = np.array([spec.malformed_kinds[k] for k in kinds], dtype=float)
        self.kinds, self.kind_p = kinds, weights / weights.sum() if len(kinds) else weights
        self.held: dict[int, list[tuple[bytes, int, bytes]]] = defaultdict(list)
        self.dups: dict[int, list[tuple[bytes, int, bytes]]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.perfect = all(getattr(spec, k) == 0 for k in Imperfections.RATE_KEYS)

    def jitter_ms(self, n: int) -> np.ndarray | None:
        """Per-record shift of ts for the next n records, or None when there is no jitter."""
        s = self.spec
        if s.jitter_rate <= 0 or s.jitter_ms <= 0 or n == 0:
            return None
        hit = self.jitter_rng.random(n) < s.jitter_rate
        shift = np.clip(self.jitter_rng.normal(0.0, s.jitter_ms, n), -3 * s.jitter_ms, 3 * s.jitter_ms)
        shift = np.where(hit, np.round(shift), 0).astype(np.int64)
        self.counts["jittered"] += int(np.count_nonzero(shift))
        return shift

    def _send_valid(self, tick: int, keys: list[bytes], ts: list[int], payloads: list[bytes]) -> None:
        if self.emit_valid is not None:
            self.emit_valid(keys, ts, payloads)
        else:
            emit = self.emit
            for k, t, p in zip(keys, ts, payloads, strict=True):
                emit(k, t, p, "valid")
        self.counts["valid"] += len(payloads)
        rate = self.spec.duplicate_rate
        if rate > 0 and payloads:
            lo, hi = self.spec.duplicate_delay_s
            for j in np.flatnonzero(self.rng.random(len(payloads)) < rate).tolist():
                self.dups[tick + int(self.rng.integers(lo, hi + 1))].append((keys[j], ts[j], payloads[j]))

    def process(self, tick: int, keys: list[bytes], ts: list[int], payloads: list[bytes]) -> None:
        """Send this tick's records (with their imperfections) and whatever falls due now."""
        if self.perfect:
            self._send_valid(tick, keys, ts, payloads)
            return
        s, rng, n = self.spec, self.rng, len(payloads)
        if n:
            u = rng.random((n, 3))
            bad = u[:, 0] < s.malformed_rate
            ooo = ~bad & (u[:, 1] < s.out_of_order_rate)
            late = ~bad & ~ooo & (u[:, 2] < s.late_rate)
            now = ~(bad | ooo | late)
            if now.all():
                self._send_valid(tick, keys, ts, payloads)
            else:
                idx = np.flatnonzero(now).tolist()
                self._send_valid(tick, [keys[i] for i in idx], [ts[i] for i in idx], [payloads[i] for i in idx])
                for i in np.flatnonzero(bad).tolist():
                    kind = self.kinds[int(rng.choice(len(self.kinds), p=self.kind_p))]
                    self.emit(keys[i], ts[i], malform(kind, payloads[i], rng, self.ranges), kind)
                    self.counts[kind] += 1
                for i in np.flatnonzero(ooo).tolist():
                    self.held[tick + int(rng.integers(1, s.out_of_order_max_s + 1))].append(
                        (keys[i], ts[i], payloads[i]))
                    self.counts["out_of_order"] += 1
                lo, hi = s.late_delay_s
                for i in np.flatnonzero(late).tolist():
                    self.held[tick + int(rng.integers(lo, hi + 1))].append((keys[i], ts[i], payloads[i]))
                    self.counts["late"] += 1
        self._release(tick)

    def _release(self, tick: int) -> None:
        due = self.held.pop(tick, None)
        if due:
            self._send_valid(tick, *map(list, zip(*due, strict=True)))
        copies = self.dups.pop(tick, None)
        if copies:
            for k, t, p in copies:
                self.emit(k, t, p, "duplicate_seq")
            self.counts["duplicate_seq"] += len(copies)

    def flush(self) -> None:
        """At the end of a run: send everything still held back, in the order it fell due."""
        while self.held or self.dups:
            tick = min([*self.held, *self.dups])
            self._release(tick)
