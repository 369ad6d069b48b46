"""Keep what a run holds out of the garbage collector's way while it collects, analyses and writes.

A run's heap is mostly objects that live until it ends (service models, clients, snapshots, the
inventory, the result), while each phase allocates millions of short-lived ones; every full
collection they trigger would walk the long-lived heap again (~0.5 s of CPU per run at 1,000
accounts, measured). `frozen_heap` moves what is alive into a generation that is never walked; the
outermost block gives it back to the collector when it ends. Frozen objects are also not written to
by a forked child's collector (report/background.py), so its pages stay shared.

`collector_paused` goes further for the analysis: it is pure and builds no reference cycles (a test
holds it to that), so reference counting frees all it drops and the cycle collector has nothing to
find; pausing it makes the analysis ~20% faster.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0  # blocks open (main thread only)


@contextmanager
def frozen_heap() -> Iterator[None]:
    global _depth
    gc.freeze()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off for a block that creates no reference cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
