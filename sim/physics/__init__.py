"""Vectorised physics: every function and class works on arrays with one row per vehicle, so a
tick of a thousand vehicles costs a few hundred numpy calls, not a thousand Python loops."""
