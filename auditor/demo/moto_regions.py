"""moto's ec2 DescribeRegions, per account and without building an EC2 backend.

moto answers every account alike: the regions that need an opt-in (ap-east-1, me-south-1, ...)
are `not-opted-in` everywhere, and nothing (ec2 has no EnableRegion; moto's `account` service has
no ListRegions nor EnableRegion) opts an account in. And it answers through the account's EC2
backend, which moto builds on first use with a default VPC, subnets and security groups: about
half a second of CPU per account, for a call that reads a constant list.

`opted_in_regions()` answers DescribeRegions from moto's own region list, straight from the
request, and marks the regions named for an account as `opted-in` for that account only: a
test or the demo can hold accounts that enabled an opt-in region beside accounts that did not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

NOT_OPTED_IN, OPTED_IN = "not-opted-in", "opted-in"


def moto_regions() -> list[Any]:
    """moto's regions (every partition's), each with its default opt-in status."""
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    return list(RegionsAndZonesBackend.regions)


@contextmanager
def describe_regions_answered_by(status: Callable[[str, str, str], str]) -> Iterator[None]:
    """Inside the block, moto's DescribeRegions gives region R of account A the OptInStatus
    `status(A, R, moto's default status)`."""
    from moto.core.responses import ActionResult
    from moto.ec2.models.availability_zones_and_regions import Region
    from moto.ec2.responses.availability_zones_and_regions import AvailabilityZonesAndRegions

    regions = moto_regions()

    def describe_regions(self: Any) -> Any:
        self.error_on_dryrun()
        names = set(self._get_param("RegionNames", []))
        # moto ignores Filters; AWS honours opt-in-status (and region-name), as here.
        filters = self._filters_from_querystring()
        wanted_status, wanted_name = filters.get("opt-in-status"), filters.get("region-name")
        account = self.current_account
        out = []
        for r in regions:
            if (names and r.name not in names) or (wanted_name and r.name not in wanted_name):
                continue
            wanted = status(account, r.name, r.opt_in_status)
            if wanted_status and wanted not in wanted_status:
                continue
            out.append(r if wanted == r.opt_in_status else Region(r.name, r.endpoint, wanted))
        return ActionResult({"Regions": out})

    with mock.patch.object(AvailabilityZonesAndRegions, "describe_regions", describe_regions):
        yield


@contextmanager
def opted_in_regions() -> Iterator[dict[str, set[str]]]:
    """Inside the block, DescribeRegions reads the yielded dict: account id -> the opt-in regions that
    account has opted into (fill it at any time; other accounts keep moto's answer)."""
    opted: dict[str, set[str]] = {}

    def status(account: str, region: str, default: str) -> str:
        return OPTED_IN if default == NOT_OPTED_IN and region in opted.get(account, ()) else default

    with describe_regions_answered_by(status):
        yield opted
