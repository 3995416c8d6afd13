"""Aegis: streaming analytics for fleets, on Apache Flink."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
