"""Stop requests: what a SIGTERM or SIGINT raises in the main thread, for every phase to catch.

A module of its own, with no imports, so the pure layers (policy/, the analysis) can tell a stop
request from an error without importing the fan-out (and with it boto3).
"""

from __future__ import annotations


class Interrupted(BaseException):
    """A stop request (SIGTERM) raised in the main thread. BaseException, like KeyboardInterrupt,
    so that no `except Exception` on the way swallows it."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


STOP_REQUESTS = (KeyboardInterrupt, Interrupted)


def stop_signal_name(exc: BaseException) -> str:
    """The signal behind a stop request: an `Interrupted`'s, or SIGINT for a KeyboardInterrupt."""
    return exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
