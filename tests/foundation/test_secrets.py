"""The one masking rule for external ids, for values and for policy documents."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from auditor.secrets import mask_external_ids_in, mask_secret

EXTERNAL_ID = "4f1c2e3d5a6b7c8d9e0fa1b2c3d4e5f6"


@given(st.text(max_size=40))
def test_masking_twice_is_masking_once(value: str) -> None:
    # Reports re-rendered from a saved inventory meet ids masked at save time: they must stay as saved.
    assert mask_secret(mask_secret(value)) == mask_secret(value)


def test_a_masked_value_never_holds_more_than_the_last_four_characters() -> None:
    assert mask_secret(EXTERNAL_ID) == "****e5f6"
    assert mask_secret("****e5f6") == "****e5f6"
    assert mask_secret("****" + EXTERNAL_ID) == "****e5f6"  # not a masked value: masked


def test_every_external_id_condition_value_of_a_document_is_masked_and_nothing_else() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::464622532012:root"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"STS:ExternalId": EXTERNAL_ID, "aws:SourceAccount": "464622532012"},
                "ForAnyValue:StringLike": {"sts:externalid": [EXTERNAL_ID, "x" * 12]},
            },
        }],
    }
    masked = mask_external_ids_in(doc)
    text = json.dumps(masked)
    assert EXTERNAL_ID not in text and "x" * 12 not in text
    cond = masked["Statement"][0]["Condition"]
    assert cond["StringEquals"] == {"STS:ExternalId": "****e5f6", "aws:SourceAccount": "464622532012"}
    assert cond["ForAnyValue:StringLike"]["sts:externalid"] == ["****e5f6", "****xxxx"]
    assert doc["Statement"][0]["Condition"]["StringEquals"]["STS:ExternalId"] == EXTERNAL_ID  # a copy


def test_the_mask_is_the_callers_choice_for_evidence() -> None:
    stmt = {"Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}}
    assert mask_external_ids_in(stmt, str.upper)["Condition"]["StringEquals"]["sts:ExternalId"] == EXTERNAL_ID.upper()
