from auditor.config import config_from_dict
from auditor.model import Account, Inventory, OrgUnit
from auditor.pipeline import select_scope

ROOT, PROD, PAY, DEV = "r-ab12", "ou-ab12-prod0001", "ou-ab12-pay00001", "ou-ab12-dev00001"
UNITS = (
    OrgUnit(ROOT, "Root", "", "Root"),
    OrgUnit(PROD, "Prod", ROOT, "Root/Prod"),
    OrgUnit(PAY, "Payments", PROD, "Root/Prod/Payments"),
    OrgUnit(DEV, "Dev", ROOT, "Root/Dev"),
)


def acct(i: str, chain: tuple[str, ...], path: str, status: str = "ACTIVE") -> Account:
    return Account(i, f"n{i}", f"{i}@x", status, chain[-1], path, (*chain, i))


ACCOUNTS = (
    acct("000000000001", (ROOT,), "Root"),
    acct("000000000002", (ROOT, PROD), "Root/Prod"),
    acct("000000000003", (ROOT, PROD, PAY), "Root/Prod/Payments"),
    acct("000000000004", (ROOT, DEV), "Root/Dev"),
    acct("000000000005", (ROOT, DEV), "Root/Dev", status="SUSPENDED"),
)
INV = Inventory("o-x", "000000000001", "aws", (), UNITS, ACCOUNTS, ())


def scope(**org):
    s = select_scope(INV, config_from_dict({"organization": org}))
    return [a.id[-1] for a in s.audited], dict(s.skipped)


def test_everything_active_is_audited_and_suspended_is_skipped_with_reason():
    audited, skipped = scope()
    assert audited == ["1", "2", "3", "4"]
    assert skipped == {"000000000005": "account is suspended"}


def test_include_ou_by_path_takes_the_subtree():
    audited, skipped = scope(include_ous=["Root/Prod"])
    assert audited == ["2", "3"]
    assert skipped["000000000004"] == "not under [organization] include_ous"


def test_include_ou_by_id_and_exclude_nested_ou():
    audited, skipped = scope(include_ous=[PROD], exclude_ous=["Root/Prod/Payments"])
    assert audited == ["2"]
    assert "under excluded OU Root/Prod/Payments" in skipped["000000000003"]


def test_path_prefix_does_not_match_a_sibling_with_a_longer_name():
    inv = Inventory("o-x", "000000000001", "aws", (), UNITS, (acct("000000000009", (ROOT,), "Root/Production"),), ())
    s = select_scope(inv, config_from_dict({"organization": {"include_ous": ["Root/Prod"]}}))
    assert s.audited == ()


def test_include_and_exclude_accounts():
    audited, _ = scope(include_accounts=["000000000003", "000000000004"], exclude_accounts=["000000000004"])
    assert audited == ["3"]


def test_management_account_can_be_left_out():
    audited, skipped = scope(audit_management_account=False)
    assert "1" not in audited
    assert "management account" in skipped["000000000001"]


def test_every_account_is_either_audited_or_skipped_once():
    s = select_scope(INV, config_from_dict({"organization": {"include_ous": ["Root/Dev"]}}))
    ids = [a.id for a in s.audited] + [i for i, _ in s.skipped]
    assert sorted(ids) == sorted(a.id for a in ACCOUNTS)
