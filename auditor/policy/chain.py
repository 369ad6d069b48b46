"""Organization policy chains: root -> OUs -> account, and the decision they give.

SCPs: the request is allowed only if every level has a policy with a matching Allow and no
level has a matching Deny; an explicit Deny anywhere wins. RCPs: the built-in
RCPFullAWSAccess sits at every level, so only Deny statements decide.
A policy the parser could not read may allow or deny anything: it makes the answer
unknown (never "allowed") unless the rest of the chain decides anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from auditor.policy.context import Truth, any_of, unknown
from auditor.policy.model import PolicyDocument, Statement
from auditor.policy.statement import Request, StatementMemo

ALLOWED, DENIED, INDETERMINATE = "allowed", "denied", "indeterminate"
MAX_CITED = 10  # statements a headline cites by name; the rest are counted


@dataclass(frozen=True)
class Attached:
    """A policy attached at one level: parsed, or the parse error."""

    policy_id: str
    name: str
    document: PolicyDocument | None
    error: str = ""

    @property
    def title(self) -> str:
        return f"{self.policy_id} ({self.name})" if self.name else self.policy_id


@dataclass(frozen=True)
class Level:
    target_id: str
    label: str  # "root r-ab12", "OU ou-ab12-11111111 (Prod)", "account 111122223333 (payments)"
    policies: tuple[Attached, ...]


@dataclass(frozen=True)
class Chain:
    kind: str  # "SCP" | "RCP"
    levels: tuple[Level, ...]

    @cached_property
    def signature(self) -> tuple[tuple[str, ...], ...]:
        """The policy ids per level: accounts with equal signatures share evaluations."""
        return tuple(tuple(a.policy_id for a in lvl.policies) for lvl in self.levels)


@dataclass(frozen=True)
class StatementOutcome:
    policy_id: str
    policy_name: str
    target_id: str
    statement: Statement | None  # None: the policy could not be parsed
    truth: Truth

    @property
    def effect(self) -> str:
        return self.statement.effect if self.statement else "?"

    @property
    def label(self) -> str:
        return self.statement.label if self.statement else "(unparsed policy)"

    def cite(self) -> str:
        return f"{self.policy_id} ({self.policy_name}) at {self.target_id}, statement {self.label}"


@dataclass(frozen=True)
class PolicyOutcome:
    attached: Attached
    statements: tuple[StatementOutcome, ...]


@dataclass(frozen=True)
class LevelOutcome:
    level: Level
    policies: tuple[PolicyOutcome, ...]
    allow: Truth  # SCP: some Allow at this level covers the request


@dataclass(frozen=True)
class Decision:
    outcome: str  # allowed | denied | indeterminate
    summary: str
    deciding_policies: tuple[str, ...] = ()
    unknown_keys: tuple[str, ...] = ()
    levels: tuple[LevelOutcome, ...] = ()
    kind: str = ""
    exempt: bool = False
    headline: str = ""  # the summary without the statements' reasoning

    @property
    def short(self) -> str:
        return self.headline or self.summary


def exempt_decision(kind: str, why: str) -> Decision:
    return Decision(ALLOWED, f"{kind}s do not apply: {why}", kind=kind, exempt=True)


def chain_truths(chain: Chain, req: Request, memo: StatementMemo | None = None) -> tuple[Truth, ...]:
    """Whether each statement of the chain applies to `req`: level by level from the root, policy by
    policy, in document order; an unparsed policy gives one unknown. The decision depends on the request
    through these alone (and its action, named in the summaries)."""
    # The same document attached at several levels (FullAWSAccess sits on the root, every OU and
    # every account) is evaluated once per request: its statements' truths cannot differ by level.
    # A memo shared by many requests goes further (see StatementMemo).
    memo = memo if memo is not None else StatementMemo()
    out: list[Truth] = []
    for lvl in chain.levels:
        for att in lvl.policies:
            if att.document is None:
                out.append(unknown([f"unparsed policy {att.policy_id}"],
                                   f"policy could not be parsed ({att.error}); it may allow or deny anything"))
            else:
                out += [memo.applies(st, req) for st in att.document.statements]
    return tuple(out)


def _level_outcomes(chain: Chain, truths: tuple[Truth, ...]) -> tuple[LevelOutcome, ...]:
    """The chain's statements paired with `truths` (as `chain_truths` orders them), level by level."""
    answers = iter(truths)
    levels = []
    for lvl in chain.levels:
        pols = []
        for att in lvl.policies:
            statements = att.document.statements if att.document is not None else (None,)
            outs = tuple(StatementOutcome(att.policy_id, att.name, lvl.target_id, st, next(answers))
                         for st in statements)
            pols.append(PolicyOutcome(att, outs))
        allows = [o.truth for p in pols for o in p.statements if o.effect in ("Allow", "?")]
        levels.append(LevelOutcome(lvl, tuple(pols), any_of(allows)))
    return tuple(levels)


def _denies(levels: tuple[LevelOutcome, ...]) -> list[StatementOutcome]:
    return [o for lv in levels for p in lv.policies for o in p.statements if o.effect in ("Deny", "?")]


def _explicit_deny(denies: list[StatementOutcome], levels: tuple[LevelOutcome, ...], kind: str) -> Decision | None:
    """An explicit Deny that applies on known values wins over everything, in SCPs and RCPs alike."""
    hard = [o for o in denies if o.truth.is_true]
    if not hard:
        return None
    cited = "; ".join(f"{o.cite()}: {o.truth.why}" for o in hard)
    # The headline is one cell of regions.csv per account and region: the first statements and a count,
    # not thousands of citations (the summary, which `auditor explain` prints, keeps them all).
    more = f"; and {len(hard) - MAX_CITED:,} more statements" if len(hard) > MAX_CITED else ""
    return Decision(DENIED, f"explicit Deny: {cited}", _ids(hard), levels=levels, kind=kind,
                    headline="explicit Deny by " + "; ".join(o.cite() for o in hard[:MAX_CITED]) + more)


def evaluate_scp_chain(chain: Chain, req: Request, memo: StatementMemo | None = None) -> Decision:
    return scp_decision(chain, req.action, chain_truths(chain, req, memo))


def evaluate_rcp_chain(chain: Chain, req: Request, memo: StatementMemo | None = None) -> Decision:
    return rcp_decision(chain, chain_truths(chain, req, memo))


def decide(chain: Chain, action: str, truths: tuple[Truth, ...]) -> Decision:
    """The chain's decision on a request for `action` whose statements' answers are `truths`."""
    return scp_decision(chain, action, truths) if chain.kind == "SCP" else rcp_decision(chain, truths)


def scp_decision(chain: Chain, action: str, truths: tuple[Truth, ...]) -> Decision:
    levels = _level_outcomes(chain, truths)
    denies = _denies(levels)
    if denied := _explicit_deny(denies, levels, "SCP"):
        return denied
    for lv in levels:
        if lv.allow.is_false:
            attached = ", ".join(a.title for a in lv.level.policies) or "no SCP attached"
            return Decision(DENIED, f"no SCP at {lv.level.label} allows {action} ({attached})",
                            tuple(a.policy_id for a in lv.level.policies), levels=levels, kind="SCP",
                            headline=f"no SCP at {lv.level.label} allows the action ({attached})")
    open_denies = [o for o in denies if o.truth.is_unknown]
    open_levels = [lv for lv in levels if lv.allow.is_unknown]
    if not open_denies and not open_levels:
        return Decision(ALLOWED, f"every level allows {action} and no Deny applies", levels=levels, kind="SCP")
    keys: set[str] = set()
    reasons = []
    for o in open_denies:
        keys |= o.truth.unknown
        reasons.append(f"Deny {o.cite()} may apply: {o.truth.why}")
    open_allow_ids: list[str] = []
    for lv in open_levels:
        keys |= lv.allow.unknown
        candidates = [o for p in lv.policies for o in p.statements if o.effect in ("Allow", "?") and o.truth.is_unknown]
        open_allow_ids += [o.policy_id for o in candidates]
        reasons.append(f"at {lv.level.label} only undecided Allows: "
                       + "; ".join(f"{o.cite()}: {o.truth.why}" for o in candidates))
    return Decision(INDETERMINATE, " | ".join(reasons), _dedupe(_ids(open_denies) + tuple(open_allow_ids)),
                    tuple(sorted(keys)), levels=levels, kind="SCP",
                    headline=f"undecided: depends on {', '.join(sorted(keys))}")


def rcp_decision(chain: Chain, truths: tuple[Truth, ...]) -> Decision:
    levels = _level_outcomes(chain, truths)
    denies = _denies(levels)
    if denied := _explicit_deny(denies, levels, "RCP"):
        return denied
    open_denies = [o for o in denies if o.truth.is_unknown]
    if not open_denies:
        return Decision(ALLOWED, "RCPFullAWSAccess applies at every level and no Deny applies",
                        levels=levels, kind="RCP")
    keys = sorted({k for o in open_denies for k in o.truth.unknown})
    cited = " | ".join(f"Deny {o.cite()} may apply: {o.truth.why}" for o in open_denies)
    return Decision(INDETERMINATE, cited, _ids(open_denies), tuple(keys), levels=levels, kind="RCP",
                    headline=f"undecided: depends on {', '.join(keys)}")


def without_words(decision: Decision) -> Decision:
    """The decision as the region matrix keeps it: no per-level outcomes, and a summary cut to its
    short form (the headline; an allowed decision's summary cites no statement and stays whole).
    Meant for decisions made from truths without words (StatementMemo(words=False)), whose full
    summary would cite empty reasons."""
    return replace(decision, summary=decision.short, levels=())


def _ids(outcomes: list[StatementOutcome]) -> tuple[str, ...]:
    return _dedupe(tuple(o.policy_id for o in outcomes))


def _dedupe(ids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))
