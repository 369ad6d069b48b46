"""The benchmark organization as plain domain objects (Inventory + snapshots), without AWS.

Same shape and policies as the simulated AWS builds (bench/simaws.py), for timing the pure
phases (policy evaluation, report writing) at sizes where collecting first would dominate.
"""

from __future__ import annotations

import json

from auditor.model import RCP, SCP, Account, AccountSnapshot, InlinePolicy, Inventory, OrgPolicy, OrgUnit, RoleInfo
from bench.orgshape import Shape
from bench.simaws import DATADOG_PERMISSIONS, DATADOG_ROLE, _region_deny, _trust

MANAGEMENT = "123456789012"
FULL_ACCESS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
RCP_FULL_ACCESS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})


def build(shape: Shape) -> tuple[Inventory, dict[str, AccountSnapshot]]:
    units_spec = shape.units()
    ids = {"root": "r-bnch"}
    for i, u in enumerate(units_spec[1:]):
        ids[u.key] = f"ou-bnch-{i:08d}"
    paths: dict[str, str] = {"root": "Root"}
    chains: dict[str, tuple[str, ...]] = {"root": (ids["root"],)}
    units = [OrgUnit(ids["root"], "Root", "", "Root")]
    for u in units_spec[1:]:
        paths[u.key] = f"{paths[u.parent]}/{u.name}"
        chains[u.key] = chains[u.parent] + (ids[u.key],)
        units.append(OrgUnit(ids[u.key], u.name, ids[u.parent], paths[u.key]))
    accounts = [Account(MANAGEMENT, "master", "master@example.com", "ACTIVE", ids["root"], "Root",
                        (ids["root"], MANAGEMENT))]
    n = 0
    for u in units_spec:
        for k in range(u.accounts):
            acct_id = f"{200000000000 + n:012d}"
            n += 1
            accounts.append(Account(acct_id, f"{u.name.lower()}-{k:05d}", f"{acct_id}@example.com", "ACTIVE",
                                    ids[u.key], paths[u.key], chains[u.key] + (acct_id,)))
    everything = tuple([u.id for u in units] + [a.id for a in accounts])
    ou_ids = [ids[u.key] for u in units_spec[1:]] or [ids["root"]]
    policies = [OrgPolicy("p-FullAWSAccess", "FullAWSAccess", SCP, True, "", FULL_ACCESS, everything)]
    policies += [OrgPolicy(f"p-scp{i:06d}", f"Scp-region-{i}", SCP, False, "bench", _region_deny(i, SCP),
                           (ou_ids[i % len(ou_ids)],)) for i in range(shape.scps)]
    policies.append(OrgPolicy("p-RCPFullAWSAccess", "RCPFullAWSAccess", RCP, True, "", RCP_FULL_ACCESS, everything))
    policies += [OrgPolicy(f"p-rcp{i:06d}", f"Rcp-region-{i}", RCP, False, "bench", _region_deny(i, RCP),
                           (ou_ids[i % len(ou_ids)],)) for i in range(shape.rcps)]
    inventory = Inventory("o-benchmark0", MANAGEMENT, "aws", (RCP, SCP), tuple(units), tuple(accounts),
                          tuple(policies))
    snapshots = {
        a.id: AccountSnapshot(a.id, role=RoleInfo(
            name=DATADOG_ROLE, path="/", arn=f"arn:aws:iam::{a.id}:role/{DATADOG_ROLE}",
            trust_policy=_trust(f"ext-{a.id}"), tags=(), attached_policies=(),
            inline_policies=(InlinePolicy("DatadogAWSIntegrationPolicy", DATADOG_PERMISSIONS),)),
            api_calls=5)
        for a in accounts
    }
    return inventory, snapshots
