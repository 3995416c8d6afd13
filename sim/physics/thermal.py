"""First-order thermal inertia: a temperature approaches its steady state with time constant tau."""

from __future__ import annotations

import numpy as np


def lag_factor(tau_s: np.ndarray | float, dt: float = 1.0) -> np.ndarray | float:
    """The fraction of the gap to the steady state closed in one step of `dt` seconds."""
    return 1.0 - np.exp(-dt / np.asarray(tau_s, dtype=float))


def approach(value: np.ndarray, target: np.ndarray, factor: np.ndarray | float) -> np.ndarray:
    """One step of dT/dt = (T_ss - T) / tau, exact for a constant target."""
    return value + (target - value) * factor
