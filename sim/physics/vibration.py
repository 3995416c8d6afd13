"""Vibration samples (in g, gravity removed) from rotating machinery: the once-per-revolution
harmonic grows with the square of the speed and with imbalance; broadband noise grows with speed;
a worn bearing adds impulses, so both RMS and kurtosis rise as it wears."""

from __future__ import annotations

import numpy as np

from sim.physics.fast import any_

AXIS_GAIN = np.array([1.0, 0.9, 1.3])


def vibration(speed_ratio: np.ndarray, base_g: np.ndarray, imbalance: np.ndarray, wear: np.ndarray,
              z: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One sample per axis, shape (n, 3).

    speed_ratio: rotation speed over the nominal one; base_g: harmonic amplitude at nominal speed;
    imbalance, wear: 0 (healthy) .. 1 (failed); z: (n, 3) standard normals; u: (n, 9) uniforms.
    """
    amp = base_g * speed_ratio ** 2 * (1.0 + 4.0 * imbalance)
    noise = (0.004 + 0.25 * base_g * speed_ratio) * (1.0 + 1.5 * wear)
    # a 1 Hz sample of a fast sinusoid lands at a random phase
    sample = (amp[:, None] * np.sin(2.0 * np.pi * u[:, 0:3]) + noise[:, None] * z) * AXIS_GAIN
    impulse = u[:, 3:6] < 0.3 * wear[:, None]
    if any_(impulse):
        size = (base_g * (1.0 + 15.0 * wear))[:, None] * -np.log(np.maximum(u[:, 6:9], 1e-12))
        sign = np.where(u[:, 0:3] < 0.5, -1.0, 1.0)
        running = (speed_ratio > 0.05)[:, None]
        sample = sample + np.where(impulse & running, size * sign, 0.0)
    return sample
