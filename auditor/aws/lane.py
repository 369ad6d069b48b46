"""A side lane: short reads that run beside an account's chain of IAM reads instead of after it.

An account's IAM reads depend on one another (GetRole, then its policies); a read that depends
only on the account's credentials (its region opt-in status) goes to the lane at once, runs in
one of the lane's threads under the same credentials, and is collected when the chain ends: the
account's critical path does not grow. Daemon threads, like the fan-out's: a call stuck past
the account deadline never holds the process at exit.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Any

log = logging.getLogger("auditor.aws")

_STOP = object()


class SideLane:
    def __init__(self, width: int, name: str = "side") -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i + 1}", daemon=True)
                         for i in range(max(1, width))]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        fut: Future[Any] = Future()
        self._jobs.put((fn, fut))
        return fut

    def _work(self) -> None:
        while (job := self._jobs.get()) is not _STOP:
            fn, fut = job
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # handed to whoever collects the result
                fut.set_exception(exc)

    def close(self) -> None:
        """No more jobs; the threads end once the queued ones are done (nobody waits for them)."""
        for _ in self._threads:
            self._jobs.put(_STOP)

    def __enter__(self) -> SideLane:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
