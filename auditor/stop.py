"""Stop requests: SIGTERM or SIGINT during a run, and where in the run they may land.

A module of its own, with nothing but the standard library, so that the pure layers (policy/, the
analysis) can tell a stop request from an error without importing the fan-out (and with it boto3).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


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


class StopGate:
    """Where a stop request (SIGTERM, SIGINT) may land in a run.

    Python runs a signal handler in the main thread between any two bytecodes. A handler that
    raises can therefore land where no phase catches it (between two phases, while a worker thread
    starts) and end the run with nothing written. The gate, installed as the handler of both
    signals, has two modes:

    - raising (from `installed()` on): the first request raises `Interrupted` at once. Before any
      account is read nothing can be lost, and a stop must not wait for a slow start-up call;
    - holding (from `hold()` on, when the first account may be read): a request is only recorded.
      The phases ask `take()` at points where they can stop cleanly (the fan-out between results,
      the policies' wait between slices, the analysis between accounts) and say why they stopped.

    Each request is acted on once, by the phase that takes it: a first SIGTERM during the collection
    stops the fan-out, and a second one cuts the wait for the policies' listing that follows. One
    that no phase takes (it arrives once the analysis is done) is only `noted()`: the run folder
    being written is finished first. `wake` callbacks run inside the handler, so they must be safe
    there (`queue.SimpleQueue.put` is).
    """

    def __init__(self) -> None:
        self._holding = False
        self._raised = False  # the one request raised before `hold()`
        self._pending: list[str] = []  # received while holding, not taken yet (signal names, in order)
        self._wakers: list[Callable[[], object]] = []

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not self._holding and not self._raised:
            self._raised = True
            raise Interrupted(name)
        self._pending.append(name)
        for wake in tuple(self._wakers):
            wake()

    @contextmanager
    def installed(self) -> Iterator[StopGate]:
        """The gate as the handler of SIGTERM and SIGINT for the block (main thread only: signals
        reach no other; elsewhere the gate is never asked anything)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def hold(self) -> None:
        """From now on requests are recorded for `take()`, never raised."""
        self._holding = True

    def take(self) -> str:
        """The signal's name of the oldest request not acted on, which the caller now acts on; else ""."""
        return self._pending.pop(0) if self._pending else ""

    def noted(self) -> list[str]:
        """Requests received and not acted on, in order."""
        return list(self._pending)

    @contextmanager
    def waking(self, wake: Callable[[], object]) -> Iterator[None]:
        """`wake` is called (inside the handler) when a request arrives during the block."""
        self._wakers.append(wake)
        try:
            yield
        finally:
            self._wakers.remove(wake)
