"""Fan-out bookkeeping cost: collect_accounts with an instant fake account read.

The per-account work is a 2 ms sleep (no AWS, no CPU), so what is measured is the pipeline's
own bookkeeping (deadlines, results, progress). It must grow linearly with the number of
accounts: the figure printed is CPU per account at each size and the ratio between sizes.

    python bench/fanout.py --sizes 1000,10000,20000
"""

from __future__ import annotations

import argparse
import logging
import time

import auditor.fanout as fanout
from auditor.config import config_from_dict
from auditor.model import Account, AccountSnapshot


def _fake_read(_gateway: object, _sts: object, account_id: str, _partition: str, **_: object) -> AccountSnapshot:
    time.sleep(0.002)
    return AccountSnapshot(account_id, role=None)


class _NoAws:
    def client(self, *_: object, **__: object) -> None:
        return None


def measure(n: int, workers: int) -> tuple[float, float]:
    accounts = tuple(
        Account(f"{i:012d}", f"a{i}", "", "ACTIVE", "r-0000", "Root", ("r-0000", f"{i:012d}")) for i in range(n)
    )
    cfg = config_from_dict({"run": {"workers": workers}})
    wall, cpu = time.perf_counter(), time.process_time()
    collected = fanout.collect_accounts(_NoAws(), cfg, accounts, "aws", "none")  # type: ignore[arg-type]
    assert len(collected.snapshots) == n
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,20000")
    parser.add_argument("--workers", type=int, default=64)
    args = parser.parse_args()
    fanout.read_account = _fake_read  # type: ignore[assignment]
    logging.disable(logging.CRITICAL)
    base: float | None = None
    for n in (int(s) for s in args.sizes.split(",")):
        wall, cpu = measure(n, args.workers)
        per = cpu / n * 1000
        base = base or per
        print(f"N={n:>6}  wall {wall:6.2f}s  cpu {cpu:6.2f}s  cpu/account {per:.3f} ms  "
              f"(x{per / base:.2f} of the smallest size; linear bookkeeping stays near x1)")


if __name__ == "__main__":
    main()
