"""The one rule for an account with no region left, and the shape of every `include_only` list
proposed to Datadog (sorted, no duplicates). Pure; shared by `datadog_patches.json`,
`exclusions.tf.json`, `auditor datadog sync-regions` and the `datadog_regions_include_denied`
finding, so they never disagree.

The rule: an empty `include_only` is never proposed. Datadog's API does not say what an empty
list means (the schema sets no minimum, and `aws_regions` defaults to `include_all`): at best the
account stays "integrated" while nothing is collected, at worst Datadog reads it as unset and
collects from every region again, the denied ones included. When every region Datadog would keep
is denied, the account is marked `no_region_left` with REASON instead: a person decides.
"""

from __future__ import annotations

from collections.abc import Iterable

NO_REGION_LEFT = "no_region_left"
REASON = (
    "every region Datadog would keep is denied by the organization's policies; an empty include_only "
    "is never proposed (Datadog's API does not define it: nothing collected, or read as every region). "
    "Remove the account from Datadog's AWS integration, or allow a region for Datadog in the SCPs"
)


def include_only_to_propose(regions: Iterable[str]) -> tuple[str, ...] | None:
    """The regions sorted and without duplicates, or None when none is left (the rule above)."""
    return tuple(sorted(set(regions))) or None
