"""Kinematics: a local east/north plane around each fleet's base, a velocity controller that steers
towards a target with limited acceleration, and the conversion to latitude/longitude."""

from __future__ import annotations

import numpy as np

from sim.physics.fast import any_

EARTH_RADIUS_M = 6_371_000.0


def to_lat_lon(lat0: np.ndarray, lon0: np.ndarray, east_m: np.ndarray,
               north_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = lat0 + np.degrees(north_m / EARTH_RADIUS_M)
    lon = lon0 + np.degrees(east_m / (EARTH_RADIUS_M * np.cos(np.radians(lat0))))
    return lat, lon


def steer(pos: np.ndarray, vel: np.ndarray, target: np.ndarray, has_target: np.ndarray, speed_cmd: np.ndarray,
          accel: np.ndarray, min_speed: np.ndarray, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """New horizontal velocity (n, 2) and distance to target (n,).

    Without a target the vehicle brakes to a stop (or, with a minimum speed, flies straight on).
    Near the target it slows down so that it does not overshoot, unless it must keep min_speed.
    """
    delta = target - pos
    dist = np.hypot(delta[:, 0], delta[:, 1])
    direction = delta / np.maximum(dist, 1e-9)[:, None]
    speed = np.minimum(speed_cmd, np.maximum(0.5 * dist, min_speed))
    desired = np.where(has_target[:, None], direction * speed[:, None], 0.0)
    change = desired - vel
    norm = np.hypot(change[:, 0], change[:, 1])
    limit = accel * dt
    change *= np.minimum(1.0, limit / np.maximum(norm, 1e-9))[:, None]
    new = vel + change
    # a wing keeps flying: never slower than its minimum speed
    sp = np.hypot(new[:, 0], new[:, 1])
    too_slow = (min_speed > 0) & (sp < min_speed)
    if any_(too_slow):
        heading = np.where(sp[:, None] > 1e-6, new / np.maximum(sp, 1e-9)[:, None], direction)
        new = np.where(too_slow[:, None], heading * min_speed[:, None], new)
    return new, dist


def heading_deg(vel: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Course over ground, 0 = north, clockwise; unchanged while (nearly) stationary."""
    speed = np.hypot(vel[:, 0], vel[:, 1])
    course = np.degrees(np.arctan2(vel[:, 0], vel[:, 1])) % 360.0
    return np.where(speed > 0.2, course, previous)
