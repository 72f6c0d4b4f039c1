"""The one error type for what a user can cause and fix: a bad source, argument, input file,
query or state. Its message is one sentence naming the thing to fix; a command line prints it
as one line and exits with `exit_code`, without a traceback (lake/cli.py does it in one place).

Standard library only and Python 3.9-clean: every deployable imports it.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the message says what."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(UserError):
    """A bad argument or option: the command cannot start."""

    exit_code = 2
