"""Errors shared across the project (kept apart from aegis.cli so `python -m aegis.cli` and
`from aegis.cli import CliError` name the same class)."""


class CliError(Exception):
    """An error the user can fix: printed without a traceback, exit code 2."""
