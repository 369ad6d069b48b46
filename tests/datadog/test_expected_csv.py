"""The CSV expected-values source: exact values, clear errors naming file, line and column."""

from __future__ import annotations

import pytest

from auditor.datadog.expected import ExpectedValuesError, load_expected_csv


def _write(tmp_path, text: str, *, encoding: str = "utf-8"):
    path = tmp_path / "expected.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_good_file_keeps_leading_zeros_and_values_exactly(tmp_path):
    path = _write(
        tmp_path,
        "account_id,role_name,external_id\n"
        "012345678901,DatadogIntegrationRole ,abc123 \n"
        "111122223333, DatadogIntegrationRole,\n",
    )
    values = load_expected_csv(path)
    assert list(values) == ["012345678901", "111122223333"]
    first = values["012345678901"]
    assert (first.role_name, first.external_id) == ("DatadogIntegrationRole ", "abc123 ")
    assert first.source == f"{path}:2"
    second = values["111122223333"]
    assert (second.role_name, second.external_id) == (" DatadogIntegrationRole", None)


def test_byte_order_mark_and_crlf_and_optional_partition_column(tmp_path):
    path = _write(tmp_path, "\ufeffpartition,external_id,account_id,role_name\r\naws-us-gov,xyz,000011112222,R\r\n\r\n")
    ev = load_expected_csv(path)["000011112222"]
    assert (ev.partition, ev.external_id, ev.role_name) == ("aws-us-gov", "xyz", "R")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("account,role_name,external_id\n", r"line 1, column 1: unknown column 'account'"),
        ("account_id,role_name\n", r"line 1: missing column\(s\) external_id"),
        ("account_id,role_name,external_id,role_name\n", r"line 1, column 4: column 'role_name' appears twice"),
        ("", r"the file is empty"),
        (
            "account_id,role_name,external_id\n12345678901,R,x\n",
            r"line 2, column 1 \(account_id\): '12345678901' is not a 12-digit AWS account id \(leading zeros lost",
        ),
        ("account_id,role_name,external_id\n 123456789012,R,x\n", r"line 2, column 1.*remove the spaces"),
        ("role_name,external_id,account_id\nR,x,1.23457E+11\n", r"line 2, column 3 \(account_id\)"),
        (
            "account_id,role_name,external_id,partition\n123456789012,R,x,aws-gov\n",
            r"line 2, column 4 \(partition\): 'aws-gov' is not one of",
        ),
        ("account_id,role_name,external_id\n123456789012,R\n", r"line 2: 2 fields, but the header has 3"),
        (
            "account_id,role_name,external_id\n123456789012,R,x\n123456789012,S,y\n",
            r"line 3, column 1 \(account_id\): account 123456789012 is already on line 2",
        ),
        ('account_id,role_name,external_id\n123456789012,"R,x\n', r"line \d+: not valid CSV"),
    ],
)
def test_bad_files_raise_one_error_naming_file_line_and_column(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ExpectedValuesError, match=message) as err:
        load_expected_csv(path)
    assert str(path) in str(err.value)
    assert isinstance(err.value, ValueError)


def test_external_id_never_appears_in_an_error(tmp_path):
    path = _write(tmp_path, "account_id,role_name,external_id\n123456789012,R,supersecretvalue1234,extra\n")
    with pytest.raises(ExpectedValuesError) as err:
        load_expected_csv(path)
    assert "supersecretvalue1234" not in str(err.value)


def test_unreadable_and_non_utf8_files(tmp_path):
    with pytest.raises(ExpectedValuesError, match="cannot read"):
        load_expected_csv(tmp_path / "nope.csv")
    path = _write(tmp_path, "account_id,role_name,external_id\n123456789012,Rôle,x\n", encoding="latin-1")
    with pytest.raises(ExpectedValuesError, match="not UTF-8"):
        load_expected_csv(path)


def test_access_key_accounts_are_an_optional_column_and_exclude_a_role(tmp_path):
    path = _write(tmp_path, "account_id,role_name,external_id,access_key_id\n"
                            "111122223333,,,AKIAIOSFODNN7EXAMPLE\n"
                            "222233334444,DatadogIntegrationRole,abc,\n")
    values = load_expected_csv(path)
    assert values["111122223333"].uses_access_keys and values["111122223333"].role_name is None
    assert not values["222233334444"].uses_access_keys
    both = _write(tmp_path, "account_id,role_name,external_id,access_key_id\n111122223333,R,,AKIAX\n")
    with pytest.raises(ExpectedValuesError, match=r"line 2, column 4 \(access_key_id\).*has no role"):
        load_expected_csv(both)
