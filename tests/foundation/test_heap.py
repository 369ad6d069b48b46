"""The run keeps its long-lived heap out of the garbage collector's way, and the analysis makes no cycles."""

from __future__ import annotations

import gc

import boto3

from auditor.analysis import analyze
from auditor.config import config_from_dict
from auditor.heap import collector_paused, frozen_heap
from bench import synthetic
from bench.orgshape import Shape


def test_the_analysis_leaves_no_cyclic_garbage_so_pausing_the_collector_loses_no_memory() -> None:
    inventory, snapshots = synthetic.build(Shape(60))
    regions = tuple(sorted(boto3.Session().get_available_regions("ec2", partition_name="aws")))[:6]
    cfg = config_from_dict({"datadog": {"expected_values": "none"}, "regions": {"audited": list(regions)}})
    gc.collect()
    with collector_paused():
        result = analyze(inventory, snapshots, cfg=cfg, regions=regions, expected={}, aws_managed_documents={})
        assert not gc.isenabled()
        found = gc.collect()  # what the paused collector would have had to free
    assert gc.isenabled()
    assert found == 0
    assert result.findings and result.verdicts  # the analysis did run


def test_frozen_heap_keeps_objects_out_of_collections_until_the_outermost_block_ends() -> None:
    gc.collect()
    with frozen_heap():
        outer = gc.get_freeze_count()
        assert outer > 0
        with frozen_heap():
            pass
        assert gc.get_freeze_count() >= outer  # the inner block does not thaw the outer one's objects
    assert gc.get_freeze_count() == 0


def test_the_collector_is_left_as_it_was_found() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
