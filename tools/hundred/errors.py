"""The one error type the CLI turns into a one-line message."""

from __future__ import annotations


class HundredError(Exception):
    """A problem explained for the user: what is wrong and how to fix it.

    ``exit_code`` is 2 for bad input (the default) and 1 for work that failed.
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class WorkFailed(HundredError):
    """Work that was asked for correctly but did not succeed (exit code 1)."""

    exit_code = 1
