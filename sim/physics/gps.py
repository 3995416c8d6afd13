"""GPS quality: satellites in view drift slowly, HDOP follows the geometry, and the position error
is a correlated random walk scaled by HDOP. A degrading antenna loses satellites, inflates HDOP and
the error, and adds jumps that no velocity explains."""

from __future__ import annotations

import numpy as np

from sim.physics.fast import any_, clip

ERR_CORRELATION = 0.85


class Gps:
    def __init__(self, n: int, rng: np.random.Generator):
        self.base_sats = rng.integers(11, 19, n)
        self.sats = self.base_sats.copy()
        self.err_m = np.zeros((n, 2))

    def step(self, z: np.ndarray, u: np.ndarray, degradation: np.ndarray,
             lost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """z: (n, 4) standard normals, u: (n, 3) uniforms. Returns sats, hdop, reported offset (m, E/N)."""
        # satellites rise and set: now and then one more or one fewer, pulled back to the base count
        change = (u[:, 0] < 0.03) * np.where(u[:, 1] < 0.5 + 0.3 * np.sign(self.base_sats - self.sats), 1, -1)
        self.sats = clip(self.sats + change, 5, 24)
        sats = clip((self.sats - 9.0 * degradation).round(), 3, 24).astype(np.int64)
        sats = np.where(lost, 3, sats)
        hdop = (0.35 + 6.0 / sats + 0.03 * np.abs(z[:, 0])) * (1.0 + 5.0 * degradation)
        hdop = np.where(lost, 25.0 + 5.0 * np.abs(z[:, 0]), hdop)
        sigma = 0.3 * hdop * (1.0 + 6.0 * degradation)
        self.err_m = ERR_CORRELATION * self.err_m + sigma[:, None] * z[:, 1:3]
        offset = self.err_m.copy()
        # a failing antenna multipaths onto reflections: single-sample jumps of tens to hundreds of m
        jump = u[:, 2] < 0.04 * degradation + 0.2 * lost
        if any_(jump):
            size = (60.0 + 300.0 * degradation[jump])[:, None]
            offset[jump] += size * np.stack([np.cos(z[jump, 3] * 3.0), np.sin(z[jump, 3] * 3.0)], axis=1)
        return sats, clip(hdop, 0.3, 99.0), offset
