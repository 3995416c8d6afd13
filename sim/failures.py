"""Failure state of a group of vehicles, vectorised: how far each gradual degradation has gone,
which sudden failures have struck, and stuck or dropped-out sensors applied to the output.

Gradual modes progress with time from onset to failure: severity 0 at onset, 1 at the failure time,
growing as ((t - onset) / (failure - onset)) ** 1.5 (wear accelerates). Sudden modes strike at the
first tick at or after their planned onset at which the vehicle is in operation (on a mission or
returning home, or a machine cutting), so the signature shows in the stream rather than on a parked
vehicle; the ground truth carries the actual onset.
"""

from __future__ import annotations

import math

import numpy as np

from sim.catalog import GRADUAL, SUDDEN
from sim.physics.fast import any_, clip
from sim.plan import VehiclePlan

SEVERITY_EXPONENT = 1.5


class FailureState:
    def __init__(self, plans: list[VehiclePlan]):
        n = len(plans)
        fp = [p.failure for p in plans]
        self.modes = [f.mode if f else None for f in fp]
        self.onset_s = np.array([f.onset_s if f else math.inf for f in fp])
        self.failure_s = np.array([f.failure_s if f and f.failure_s is not None else math.inf for f in fp])
        self.duration_s = np.array([f.duration_s if f and f.duration_s is not None else math.inf for f in fp])
        self.motor = np.array([f.motor if f and f.motor is not None else -1 for f in fp], dtype=np.int64)
        self.cell = np.array([f.cell if f and f.cell is not None else -1 for f in fp], dtype=np.int64)
        self.component = [f.component if f else None for f in fp]
        self.mask = {m: np.array([x == m for x in self.modes], dtype=bool) for m in (*GRADUAL, *SUDDEN)}
        self.present = {m: bool(v.any()) for m, v in self.mask.items()}
        self.sudden = np.array([x in SUDDEN for x in self.modes], dtype=bool)
        self.gradual_mask = np.array([x in GRADUAL for x in self.modes], dtype=bool)
        self.triggered = np.zeros(n, dtype=bool)
        self.trigger_s = np.full(n, math.nan)
        self.failed = np.zeros(n, dtype=bool)      # gradual mode past its failure time
        self._zeros = np.zeros(n)
        finite = np.isfinite(self.failure_s)
        span = np.where(finite, self.failure_s, 1.0) - np.where(finite, self.onset_s, 0.0)
        self._span = np.where(finite & (span > 0), span, 1.0)

    def severity(self, mode: str, t: float) -> np.ndarray:
        """0..1 per vehicle for a gradual mode (0 for vehicles without it)."""
        if not self.present[mode]:
            return self._zeros
        x = clip((t - self.onset_s) / self._span, 0.0, 1.0) ** SEVERITY_EXPONENT
        return np.where(self.mask[mode], x, 0.0)

    def newly_failed(self, t: float) -> np.ndarray:
        """Gradual degradations that reach their failure time at this tick."""
        new = self.gradual_mask & ~self.failed & (t >= self.failure_s)
        self.failed |= new
        return new

    def strike(self, t: float, in_operation: np.ndarray) -> np.ndarray:
        """Sudden failures that strike at this tick."""
        new = self.sudden & ~self.triggered & (t >= self.onset_s) & in_operation
        if any_(new):
            self.triggered |= new
            self.trigger_s[new] = t
        return new

    def active(self, mode: str) -> np.ndarray:
        """Vehicles on which a sudden `mode` has struck."""
        return self.mask[mode] & self.triggered


class SensorFaults:
    """Stuck or dropped-out sensors, applied to the output columns of a group."""

    def __init__(self, plans: list[VehiclePlan]):
        self.entries: list[tuple[int, str, tuple[str, ...]]] = []
        for i, p in enumerate(plans):
            f = p.failure
            if f and f.mode in ("sensor_stuck", "sensor_dropout"):
                self.entries.append((i, f.mode, f.fields))
        self.stuck_values: dict[tuple[int, str], object] = {}

    def apply(self, active: np.ndarray, columns: dict[str, np.ndarray | list],
              nulls: dict[str, np.ndarray]) -> None:
        """Overwrite stuck fields with their value at the moment of failure; mark dropped fields null.

        Columns may be the group's live state arrays: a stuck field is copied before it is overwritten,
        so only the reading freezes, not the physics behind it."""
        copied: set[str] = set()
        for i, mode, names in self.entries:
            if not active[i]:
                continue
            for name in names:
                if mode == "sensor_dropout":
                    mask = nulls.get(name)
                    if mask is None:
                        mask = nulls[name] = np.zeros(len(active), dtype=bool)
                    mask[i] = True
                else:
                    if name not in copied:
                        columns[name] = np.array(columns[name], copy=True)
                        copied.add(name)
                    col = columns[name]
                    key = (i, name)
                    if key not in self.stuck_values:
                        self.stuck_values[key] = np.array(col[i], copy=True)
                    col[i] = self.stuck_values[key]
