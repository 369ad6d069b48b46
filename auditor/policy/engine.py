"""The organization's SCPs and RCPs parsed once, chains per account, cached decisions.

Ten thousand accounts under a few OUs share a few policy chains. A decision depends on the
chain, the role's name/path/tags, the region and the action, and on the account id only
when a policy can tell account ids apart (an ARN or account value with digits in the
account position, a policy variable). So decisions are cached per (OU path, policies per
level, role facts, region, action), plus the account id for those few chains. The account
id of the account that filled the cache is replaced in the texts handed to the others.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from auditor.facts.sites import DatadogPrincipal, UnsupportedPartition, datadog_principal
from auditor.model import RCP, SCP, Account, Inventory
from auditor.policy.chain import (
    Attached,
    Chain,
    Decision,
    Level,
    chain_truths,
    decide,
    exempt_decision,
    without_words,
)
from auditor.policy.document import PolicyDocument, PolicyError, parse_policy
from auditor.policy.requests import RoleFacts, assume_role_request, probe_request
from auditor.policy.statement import Request, StatementMemo

# Context keys whose value is the account id (or contains it), per chain kind.
_ACCOUNT_KEYS = {
    "SCP": {"aws:principalarn": "arn", "aws:principalaccount": "id", "aws:resourceaccount": "id"},
    "RCP": {"aws:resourceaccount": "id"},
}
_STRING_FAMILIES = ("string", "string_ic", "string_like")


@dataclass(frozen=True)
class Stats:
    requests: int
    evaluations: int
    policies_parsed: int


class OrgPolicies:
    """Every SCP and RCP of the inventory, parsed once, and the chain of each account."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.errors: dict[str, PolicyError] = {}
        self.attached: dict[str, Attached] = {}
        self._by_target: dict[tuple[str, str], list[Attached]] = defaultdict(list)
        # A policy type not enabled at the root has no effect (AWS detaches its policies).
        self.enabled = {kind: kind in inventory.enabled_policy_types for kind in (SCP, RCP)}
        for pol in inventory.policies:
            if pol.type not in (SCP, RCP) or not self.enabled[pol.type]:
                continue
            try:
                doc: PolicyDocument | None = parse_policy(pol.content, policy_id=pol.id, name=pol.name)
                error = ""
            except PolicyError as exc:
                doc, error = None, str(exc)
                self.errors[pol.id] = exc
            att = Attached(pol.id, pol.name, doc, error)
            self.attached[pol.id] = att
            for target in pol.targets:
                self._by_target[(pol.type, target)].append(att)
        self._units = {u.id: u for u in inventory.units}
        self._levels: dict[tuple[str, str, bool], Level] = {}  # the root's and OUs' levels serve every account

    def chain(self, account: Account, policy_type: str) -> Chain:
        last = len(account.chain) - 1
        levels = tuple(self._level(policy_type, target, i == last) for i, target in enumerate(account.chain))
        return Chain("SCP" if policy_type == SCP else "RCP", levels)

    def _level(self, policy_type: str, target: str, is_account: bool) -> Level:
        key = (policy_type, target, is_account)
        level = self._levels.get(key)
        if level is None:
            attached = tuple(self._by_target.get((policy_type, target), ()))
            level = Level(target, self._label(target, is_account), attached)
            if not is_account:
                self._levels[key] = level
        return level

    def _label(self, target: str, is_account: bool) -> str:
        if is_account:
            return f"account {target}"
        unit = self._units.get(target)
        if target.startswith("r-"):
            return f"root {target}"
        return f"OU {target} ({unit.name})" if unit else f"OU {target}"


def account_agnostic(doc: PolicyDocument, kind: str) -> bool:
    """True when the policy gives the same answer for every account id (all else equal)."""
    sensitive = _ACCOUNT_KEYS[kind]
    for st in doc.statements:
        if any(p.has_vars for p in st.resource_patterns) or any(p.has_vars for c in st.conditions for p in c.patterns):
            return False
        if any(p.raw != "*" and _digits_in_account_part(p.raw) for p in st.resource_patterns):
            return False
        if kind == "SCP" and st.principals is not None and any(p.value != "*" for p in st.principals):
            return False
        for c in st.conditions:
            how = sensitive.get(c.key_lc)
            if how is None or c.family == "null":
                continue
            for v in c.values:
                if how == "arn" and c.family == "arn" and not _digits_in_account_part(v):
                    continue
                if c.family in _STRING_FAMILIES and not re.search(r"\d", v):
                    continue
                return False
    return True


def _digits_in_account_part(arn_pattern: str) -> bool:
    parts = arn_pattern.split(":", 5)
    return len(parts) == 6 and re.search(r"\d", parts[4]) is not None


class Evaluator:
    """Decisions for the region matrix, cached; counts requests and real evaluations.

    `words=False` (the region matrix): decisions keep what the matrix shows (outcome, policies,
    unknown keys, headline, an allowed decision's summary) and skip the statements' reasoning and
    per-level outcomes that only `auditor explain` prints. Outcomes, policies, keys and headlines
    are the same in both modes.
    """

    def __init__(self, inventory: Inventory, *, site: str, words: bool = True) -> None:
        self.inventory = inventory
        self.org = OrgPolicies(inventory)
        try:
            self.datadog: DatadogPrincipal | None = datadog_principal(site, inventory.partition)
            self.datadog_problem = ""
        except UnsupportedPartition as exc:
            self.datadog, self.datadog_problem = None, str(exc)
        self.requests = 0
        self.evaluations = 0
        self._cache: dict[tuple[object, ...], tuple[str, Decision]] = {}
        self.words = words
        self._statements = StatementMemo(words=words)  # statement answers shared by every chain and request
        # Without words, one chain's decisions for one account and action, by statement answers (see _decide).
        self._by_truths: dict[tuple[object, ...], Decision] = {}
        self._agnostic: dict[tuple[str, tuple[tuple[str, ...], ...]], bool] = {}

    @property
    def stats(self) -> Stats:
        return Stats(self.requests, self.evaluations, len(self.org.attached))

    def exemption(self, account: Account, role: RoleFacts, kind: str) -> str:
        """Why `kind` policies do not apply to this request, or ""."""
        if account.id == self.inventory.management_account_id:
            return "the management account is exempt from SCPs and RCPs"
        if role.service_linked:
            return f"service-linked roles ({role.path}) are exempt"
        if role.access_keys and kind == "RCP":
            return "Datadog uses access keys in this account and calls no sts:AssumeRole"
        if not self.org.enabled[SCP if kind == "SCP" else RCP]:
            return f"{kind}s are not enabled in the organization"
        return ""

    def view(self, account: Account, role: RoleFacts) -> AccountView:
        """Everything about the account that does not depend on region or action, computed once."""
        scp, rcp = self.org.chain(account, SCP), self.org.chain(account, RCP)
        return AccountView(
            account, role, scp, rcp,
            self.exemption(account, role, "SCP"), self.exemption(account, role, "RCP"),
            self._group(scp, account, role), self._group(rcp, account, role),
        )

    def probe(self, account: Account, role: RoleFacts, region: str, action: str) -> Decision:
        return self.probe_in(self.view(account, role), region, action)

    def assume_role(self, account: Account, role: RoleFacts, region: str) -> Decision:
        return self.assume_role_in(self.view(account, role), region)

    def probe_in(self, view: AccountView, region: str, action: str) -> Decision:
        """SCP decision on the Datadog role session calling `action` in `region`."""
        self.requests += 1
        if view.scp_exempt:
            return exempt_decision("SCP", view.scp_exempt)
        return self._cached(view.scp_group, view.account.id, (region, action), lambda: self._decide(
            view.scp, view.scp_group, view.account.id,
            probe_request(self.inventory, view.account, view.role, region, action)))

    def assume_role_in(self, view: AccountView, region: str) -> Decision:
        """RCP decision on Datadog's sts:AssumeRole of the role through STS in `region`."""
        self.requests += 1
        if view.rcp_exempt:
            return exempt_decision("RCP", view.rcp_exempt)
        return self._cached(view.rcp_group, view.account.id, (region,), lambda: self._decide(
            view.rcp, view.rcp_group, view.account.id,
            assume_role_request(self.inventory, view.account, view.role, region, self.datadog)))

    def _decide(self, chain: Chain, group: tuple[object, ...], account_id: str, req: Request) -> Decision:
        """The chain's decision on `req`, as evaluate_scp_chain / evaluate_rcp_chain give it (without words:
        see `without_words`)."""
        truths = chain_truths(chain, req, self._statements)
        if self.words:
            return decide(chain, req.action, truths)
        # Without words a decision is a function of the chain, the action (named in an allowed summary) and
        # the statements' answers, which carry no why: one account's regions alike in those share it.
        key: tuple[object, ...] = (group, account_id, req.action, truths)
        decision = self._by_truths.get(key)
        if decision is None:
            decision = self._by_truths[key] = without_words(decide(chain, req.action, truths))
        return decision

    def _group(self, chain: Chain, account: Account, role: RoleFacts) -> tuple[object, ...]:
        """Accounts with equal groups get equal decisions (up to their account id in texts)."""
        per_account = not self._chain_agnostic(chain)
        ous = tuple(lvl.target_id for lvl in chain.levels[:-1])
        return (chain.kind, ous, chain.signature, role.name, role.path, role.tags, role.missing, role.access_keys,
                account.id if per_account else "")

    def _cached(self, group: tuple[object, ...], account_id: str, request_key: tuple[str, ...],
                compute: Callable[[], Decision]) -> Decision:
        key = (group, request_key)
        hit = self._cache.get(key)
        if hit is None:
            self.evaluations += 1
            decision = compute()
            self._cache[key] = (account_id, decision)
            return decision
        owner, decision = hit
        return decision if owner == account_id else _rebind(decision, owner, account_id)

    def _chain_agnostic(self, chain: Chain) -> bool:
        key = (chain.kind, chain.signature)
        if key not in self._agnostic:
            self._agnostic[key] = all(a.document is None or account_agnostic(a.document, chain.kind)
                                      for lvl in chain.levels for a in lvl.policies)
        return self._agnostic[key]


@dataclass(frozen=True)
class AccountView:
    account: Account
    role: RoleFacts
    scp: Chain
    rcp: Chain
    scp_exempt: str
    rcp_exempt: str
    scp_group: tuple[object, ...]
    rcp_group: tuple[object, ...]

    @property
    def group(self) -> tuple[object, ...]:
        """Accounts sharing this get the same region matrix row (up to their id in texts)."""
        return (self.scp_group, self.rcp_group, self.scp_exempt, self.rcp_exempt)


def split_on_account(text: str, account_id: str) -> list[str]:
    """`text` cut at each occurrence of the account id (not inside a longer number)."""
    return re.split(rf"(?<!\d){re.escape(account_id)}(?!\d)", text)


def rebind_text(text: str, owner: str, account_id: str) -> str:
    return text if owner == account_id else account_id.join(split_on_account(text, owner))


def _rebind(decision: Decision, owner: str, account_id: str) -> Decision:
    """The decision as worded for another account of the same group (texts only)."""
    return replace(decision, summary=rebind_text(decision.summary, owner, account_id),
                   headline=rebind_text(decision.headline, owner, account_id), levels=())
