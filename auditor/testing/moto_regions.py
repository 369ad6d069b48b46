"""moto's ec2 DescribeRegions with an opt-in status per account.

moto answers every account alike: the regions that need an opt-in (ap-east-1, me-south-1, ...)
are `not-opted-in` everywhere, and nothing (ec2 has no EnableRegion; moto's `account` service has
no ListRegions nor EnableRegion) opts an account in. `opted_in_regions()` keeps moto's answer and
marks the regions named for an account as `opted-in` for that account only, so a test or the demo
can hold accounts that have enabled an opt-in region beside accounts that have not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

NOT_OPTED_IN, OPTED_IN = "not-opted-in", "opted-in"


@contextmanager
def opted_in_regions() -> Iterator[dict[str, set[str]]]:
    """Inside the block, moto's DescribeRegions reads the yielded dict: account id -> the opt-in regions
    that account has opted into (fill it at any time; accounts not in it keep moto's answer)."""
    from moto.ec2.models.availability_zones_and_regions import Region, RegionsAndZonesBackend

    opted: dict[str, set[str]] = {}
    original = RegionsAndZonesBackend.describe_regions

    def describe_regions(self: Any, region_names: list[str] | None = None) -> list[Any]:
        mine = opted.get(self.account_id, set())
        return [Region(r.name, r.endpoint, OPTED_IN) if r.name in mine and r.opt_in_status == NOT_OPTED_IN else r
                for r in original(self, region_names)]

    with mock.patch.object(RegionsAndZonesBackend, "describe_regions", describe_regions):
        yield opted
