"""Weather per fleet: a mean wind that wanders (Ornstein-Uhlenbeck), gusts per vehicle, and an
ambient temperature with a daily cycle in local solar time."""

from __future__ import annotations

import numpy as np

DAY_MS = 86_400_000


class Environment:
    def __init__(self, fleet_of: np.ndarray, lon: np.ndarray, wind_mean_mps: np.ndarray,
                 wind_dir_rad: np.ndarray, gust_mps: np.ndarray, ambient_mean_c: np.ndarray,
                 daily_amplitude_c: np.ndarray, rng: np.random.Generator):
        """fleet_of: fleet index per vehicle; the other per-fleet arrays are indexed by it."""
        self.fleet_of = fleet_of
        self.solar_offset_ms = (lon / 15.0 * 3_600_000).astype(np.int64)
        self.wind_mean = np.stack([np.sin(wind_dir_rad), np.cos(wind_dir_rad)], axis=1) * wind_mean_mps[:, None]
        self.wind_dev = np.zeros_like(self.wind_mean)
        self.gust_mps = gust_mps
        self.gust = np.zeros((len(fleet_of), 2))
        self.ambient_mean = ambient_mean_c
        self.daily_amp = daily_amplitude_c
        self.vehicle_offset_c = 0.6 * rng.standard_normal(len(fleet_of))

    def step(self, ts_ms: int, z_fleet: np.ndarray, z_vehicle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """z_fleet: (fleets, 2), z_vehicle: (n, 2) normals. Returns wind (n, 2) m/s (E, N), ambient (n,)."""
        self.wind_dev = 0.995 * self.wind_dev + 0.08 * z_fleet
        self.gust = 0.7 * self.gust + (0.7 * self.gust_mps)[self.fleet_of, None] * z_vehicle
        wind = (self.wind_mean + self.wind_dev)[self.fleet_of] + self.gust
        local_hour = ((ts_ms + self.solar_offset_ms) % DAY_MS) / 3_600_000.0
        # warmest mid-afternoon, coldest before dawn
        daily = np.sin(2.0 * np.pi * (local_hour - 9.0) / 24.0)
        ambient = self.ambient_mean[self.fleet_of] + self.daily_amp[self.fleet_of] * daily
        return wind, ambient + self.vehicle_offset_c
