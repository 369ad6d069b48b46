"""[datadog] send_results and result_tags: off by default; tags must be Datadog tags we do not set ourselves."""

import pytest

from auditor.config import Config, ConfigError, config_from_dict


def test_sending_results_is_off_by_default_with_no_extra_tags():
    assert Config().datadog.send_results is False
    assert Config().datadog.result_tags == ()


def test_result_tags_are_kept_in_order():
    cfg = config_from_dict({"datadog": {"send_results": True, "result_tags": ["env:prod", "team:cloud-sec"]}})
    assert cfg.datadog.send_results is True
    assert cfg.datadog.result_tags == ("env:prod", "team:cloud-sec")


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["env prod"], "[datadog] result_tags = 'env prod' is not allowed; a Datadog tag"),
        (["1env:prod"], "[datadog] result_tags = '1env:prod' is not allowed"),
        ([""], "[datadog] result_tags = '' is not allowed"),
        (["env:" + "x" * 200], "is not allowed; a Datadog tag"),
        (["check:mine"], "[datadog] result_tags = 'check:mine' is not allowed; the auditor sets 'check'"),
        (["aws_org_id:o-1"], "the auditor sets 'aws_org_id'"),
        (["env:prod", "env:prod"], "tags must not repeat"),
    ],
)
def test_a_bad_result_tag_names_the_key_and_what_is_allowed(tags, expected):
    with pytest.raises(ConfigError) as err:
        config_from_dict({"datadog": {"result_tags": tags}})
    assert expected in str(err.value)


def test_send_results_must_be_a_boolean():
    with pytest.raises(ConfigError, match=r"\[datadog\] send_results must be true or false"):
        config_from_dict({"datadog": {"send_results": "yes"}})
