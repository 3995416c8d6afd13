"""Lithium-polymer packs of series cells: open-circuit voltage from state of charge, sag through
each cell's internal resistance, coulomb counting per cell, and the pack temperature.

Per-cell state lets a single degraded or shorted cell show up the way it does on a real pack: the
weak cell's voltage falls first, and the pack percentage follows the weakest cell, as a BMS does.
"""

from __future__ import annotations

import numpy as np

from sim.physics.fast import clip, row_mean
from sim.physics.thermal import approach, lag_factor

#: open-circuit voltage of a LiPo cell against state of charge (typical discharge curve)
SOC_POINTS = np.array([0.0, 0.05, 0.10, 0.20, 0.30, 0.50, 0.70, 0.90, 1.00])
OCV_POINTS = np.array([3.00, 3.30, 3.45, 3.60, 3.68, 3.78, 3.92, 4.08, 4.20])
CELL_MAX_V = 4.25


def open_circuit_voltage(soc: np.ndarray) -> np.ndarray:
    return np.interp(soc, SOC_POINTS, OCV_POINTS)


class Battery:
    """N packs of `cells` series cells. Current is positive when discharging."""

    def __init__(self, capacity_ah: np.ndarray, cells: int, r_cell_ohm: np.ndarray, soc: np.ndarray,
                 temp_c: np.ndarray, rng: np.random.Generator):
        n = len(capacity_ah)
        # manufacturing spread between the cells of one pack
        self.capacity_ah = capacity_ah[:, None] * (1.0 + 0.01 * rng.standard_normal((n, cells)))
        self.r_ohm = r_cell_ohm[:, None] * (1.0 + 0.08 * rng.uniform(-1, 1, (n, cells)))
        self.soc = clip(soc[:, None] - 0.004 * rng.random((n, cells)), 0.0, 1.0)
        self.temp_c = temp_c.astype(float).copy()
        self.fade = np.ones((n, cells))          # remaining capacity fraction (degradation)
        self.r_factor = np.ones((n, cells))      # internal resistance growth (degradation)
        self.short_rate = np.zeros((n, cells))   # self-discharge through an internal short, SOC per second
        self.short_sag_v = np.zeros((n, cells))  # extra voltage collapse of a shorted cell
        self.extra_heat_c = np.zeros(n)          # steady-state rise from a fault
        self.tau_s = np.full(n, 600.0)
        self.current_a = np.zeros(n)

    @property
    def cells(self) -> int:
        return self.soc.shape[1]

    def step(self, current_a: np.ndarray, ambient_c: np.ndarray, dt: float = 1.0) -> None:
        """Draw `current_a` for `dt` seconds (negative: charge)."""
        self.current_a = current_a
        dq = current_a[:, None] * (dt / 3600.0) / (self.capacity_ah * self.fade)
        self.soc = clip(self.soc - dq - self.short_rate * dt, 0.0, 1.0)
        c_rate = current_a / row_mean(self.capacity_ah)
        target = ambient_c + 3.0 * c_rate * c_rate * row_mean(self.r_factor) + self.extra_heat_c
        self.temp_c = approach(self.temp_c, target, lag_factor(self.tau_s, dt))

    def cell_voltages(self) -> np.ndarray:
        """Terminal voltage of each cell under the current drawn in the last step."""
        sag = self.current_a[:, None] * self.r_ohm * self.r_factor
        v = open_circuit_voltage(self.soc) - sag - self.short_sag_v
        return clip(v, 0.0, CELL_MAX_V)

    @property
    def percent(self) -> np.ndarray:
        """Pack state of charge as a BMS reports it: limited by the weakest cell."""
        return 100.0 * np.minimum.reduce(self.soc, axis=1)
