"""Radio link from distance: free-space path loss at 2.4 GHz plus shadowing, a two-ray penalty for
antennas near the ground, and link quality and packet loss derived from the received power."""

from __future__ import annotations

import numpy as np

from sim.physics.fast import clip

FREQ_HZ = 2.4e9
TX_DBM = 20.0
ANTENNA_GAIN_DB = 5.0
_FSPL_CONST = 20.0 * np.log10(FREQ_HZ) - 147.55


def path_loss_db(distance_m: np.ndarray, ground_breakpoint_m: np.ndarray | None = None) -> np.ndarray:
    d = np.maximum(distance_m, 1.0)
    loss = 20.0 * np.log10(d) + _FSPL_CONST
    if ground_breakpoint_m is not None:
        # beyond the breakpoint the ground reflection makes power fall with d^4 instead of d^2
        loss = loss + 20.0 * np.log10(np.maximum(d / ground_breakpoint_m, 1.0))
    return loss


def received_dbm(distance_m: np.ndarray, shadowing_db: np.ndarray,
                 ground_breakpoint_m: np.ndarray | None = None) -> np.ndarray:
    rssi = TX_DBM + ANTENNA_GAIN_DB - path_loss_db(distance_m, ground_breakpoint_m) - shadowing_db
    return clip(rssi, -140.0, -5.0)


def link_quality(rssi_dbm: np.ndarray) -> np.ndarray:
    """0..100: -100 dBm and below is unusable, -50 dBm and above is perfect."""
    return clip((rssi_dbm + 100.0) * 2.0, 0.0, 100.0)


def packet_loss(rssi_dbm: np.ndarray) -> np.ndarray:
    """Fraction of packets lost: a logistic around the receiver's sensitivity (-92 dBm)."""
    return 1.0 / (1.0 + np.exp((rssi_dbm + 92.0) / 2.5))
