"""What each condition key is in the two requests the region matrix asks, and why (AWS's own words).

One table per request, one row per key AWS documents (the global condition context keys of the IAM
User Guide, plus the service keys of sts:AssumeRole and ec2:Region), each in one class:

- PRESENT: in the request with a value the auditor knows (given here, or per request: `PER_REQUEST`);
- PRESENT_UNKNOWN_VALUE: always in the request, with a value nobody can know offline;
- ABSENT: AWS sets it only in situations the request is not in;
- UNKNOWN: may or may not be in the request (`maybe`: the values it has if it is there).

A key no row names (a service key of another service, a tag family not listed) is UNKNOWN. The
"why" of every row is what `auditor explain` prints and what README.md (Policy semantics) lists.

Facts about Datadog these rows rely on (DESIGN.md): the probes are list/describe calls on "*" made
directly with the role session Datadog gets from sts:AssumeRole; that sts:AssumeRole comes from an
IAM role session in Datadog's account, outside the organization, straight to STS. Datadog's documented
trust policy allows sts:AssumeRole only, not sts:TagSession nor sts:SetSourceIdentity, which passing
session tags or a source identity requires: so Datadog passes neither.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from auditor.policy.context import Context, KeyReasons, Presence, make_context

PRESENT = Presence.PRESENT
PRESENT_UNKNOWN_VALUE = Presence.PRESENT_UNKNOWN_VALUE
ABSENT = Presence.ABSENT
UNKNOWN = Presence.UNKNOWN
PER_REQUEST = ""  # a PRESENT key whose value requests.py fills in per request (region, role, account)


@dataclass(frozen=True)
class KeyFact:
    """One key (or key family, ending in "/") of one request: its class, its value, AWS's reason."""

    key: str
    presence: Presence
    why: str
    value: str = PER_REQUEST  # PRESENT keys: the value, unless PER_REQUEST
    maybe: tuple[str, ...] = ()  # UNKNOWN keys: the values the key has if it is there

    @property
    def family(self) -> bool:
        return self.key.endswith("/")


# Reasons shared by both requests (AWS's availability notes, shortened).
_DIRECT = ("set only when a service calls another with the principal's credentials (forward access); a direct "
           "call has none")
_SERVICE_PRINCIPAL = "set only when an AWS service principal calls on behalf of a resource (service-to-service)"
_VPC_ENDPOINT = ("set only when the request comes through a VPC endpoint; whether Datadog's calls do is not "
                 "published")
_ALWAYS_UNSEEN = "always in the request; its value is chosen at request time and cannot be known offline"
_MCP = ("documented for calls made through an AWS managed MCP server (true there); a direct SDK call carries false "
        "or nothing")
_NO_TAGS = ("Datadog passes no session tags: the documented trust policy does not allow sts:TagSession, which "
            "passing tags requires")
_NO_SOURCE_IDENTITY = ("set only once a source identity is set when a role is assumed, which needs "
                       "sts:SetSourceIdentity in the trust policy; Datadog's documented trust policy does not allow it")


def _request_wide(direct_via: str) -> tuple[KeyFact, ...]:
    """Keys of the request itself, alike for both requests (both are direct calls by Datadog)."""
    return (
        KeyFact("aws:RequestedRegion", PRESENT, "always in the request: the region the call is sent to"),
        KeyFact("aws:SecureTransport", PRESENT, "always in the request; AWS SDKs call over HTTPS only", "true"),
        KeyFact("aws:ViaAWSService", PRESENT,
                f"always in the request; false when the principal makes the call directly ({direct_via})", "false"),
        KeyFact("aws:CalledVia", ABSENT, _DIRECT),
        KeyFact("aws:CalledViaFirst", ABSENT, _DIRECT),
        KeyFact("aws:CalledViaLast", ABSENT, _DIRECT),
        KeyFact("aws:CalledViaAWSMCP", ABSENT, "set only when an AWS managed MCP server makes the call"),
        KeyFact("aws:ViaAWSMCPService", UNKNOWN, _MCP, maybe=("false",)),
        KeyFact("aws:IsMcpServiceAction", UNKNOWN, _MCP, maybe=("false",)),
        KeyFact("aws:SourceAccount", ABSENT, _SERVICE_PRINCIPAL),
        KeyFact("aws:SourceArn", ABSENT, _SERVICE_PRINCIPAL),
        KeyFact("aws:SourceOrgID", ABSENT, _SERVICE_PRINCIPAL),
        KeyFact("aws:SourceOrgPaths", ABSENT, _SERVICE_PRINCIPAL),
        KeyFact("aws:CurrentTime", PRESENT_UNKNOWN_VALUE, _ALWAYS_UNSEEN),
        KeyFact("aws:EpochTime", PRESENT_UNKNOWN_VALUE, _ALWAYS_UNSEEN),
        KeyFact("aws:UserAgent", PRESENT_UNKNOWN_VALUE, "always in the request; the value is Datadog's client's"),
        KeyFact("aws:referer", ABSENT, "set only for requests a browser makes from a link; programmatic calls "
                "have none"),
        KeyFact("aws:SourceIp", UNKNOWN, "in the request unless it comes through a VPC endpoint; Datadog's address and "
                "route are not published"),
        KeyFact("aws:SourceVpc", UNKNOWN, _VPC_ENDPOINT),
        KeyFact("aws:SourceVpcArn", UNKNOWN, _VPC_ENDPOINT),
        KeyFact("aws:SourceVpce", UNKNOWN, _VPC_ENDPOINT),
        KeyFact("aws:VpcSourceIp", UNKNOWN, _VPC_ENDPOINT),
        KeyFact("aws:VpceAccount", UNKNOWN, _VPC_ENDPOINT),
        KeyFact("aws:VpceOrgID", UNKNOWN, _VPC_ENDPOINT),
        KeyFact("aws:VpceOrgPaths", UNKNOWN, _VPC_ENDPOINT),
        KeyFact("aws:PrincipalIsAWSService", PRESENT,
                "in every signed request; false when the caller is not an AWS service principal", "false"),
        KeyFact("aws:PrincipalServiceName", ABSENT, "set only when an AWS service principal makes the call"),
        KeyFact("aws:PrincipalServiceNamesList", ABSENT, "set only when an AWS service principal makes the call"),
        KeyFact("aws:AssumedRoot", ABSENT, "set only for sessions from sts:AssumeRoot"),
        KeyFact("aws:ChatbotSourceArn", ABSENT, "set only for sessions AWS Chatbot creates for a chat channel"),
        KeyFact("aws:MultiFactorAuthAge", ABSENT, "set only when the principal authenticated with MFA; Datadog's "
                "automated sessions do not"),
        KeyFact("aws:username", ABSENT, "set only for IAM users; role sessions have none"),
    )


PROBE_KEYS: tuple[KeyFact, ...] = (
    *_request_wide("the role session calls the service itself"),
    KeyFact("aws:PrincipalArn", PRESENT, "for a role session, the role's ARN (with its path)"),
    KeyFact("aws:PrincipalAccount", PRESENT, "always in the request: the role's account"),
    KeyFact("aws:PrincipalOrgID", PRESENT, "set for principals of organization members: this organization's id"),
    KeyFact("aws:PrincipalOrgPaths", PRESENT, "set for principals of organization members: the account's path"),
    KeyFact("aws:PrincipalType", PRESENT, "always in the request: a role session", "AssumedRole"),
    KeyFact("aws:PrincipalTag/", PRESENT, f"sent for each tag on the role; any other tag is absent: {_NO_TAGS}"),
    KeyFact("aws:userid", PRESENT_UNKNOWN_VALUE, "always in the request: role id and session name, which Datadog "
            "chooses"),
    KeyFact("aws:MultiFactorAuthPresent", PRESENT, "in requests signed with temporary credentials (a role session); "
            "false: Datadog's sts:AssumeRole uses no MFA", "false"),
    KeyFact("aws:TokenIssueTime", PRESENT_UNKNOWN_VALUE, "in requests signed with temporary credentials; when "
            "Datadog's session was issued is not known"),
    KeyFact("aws:SourceIdentity", ABSENT, _NO_SOURCE_IDENTITY),
    KeyFact("aws:FederatedProvider", ABSENT, "set only for sessions from AssumeRoleWithWebIdentity or "
            "AssumeRoleWithSAML; this one is from sts:AssumeRole"),
    KeyFact("aws:Ec2InstanceSourceVpc", ABSENT, "set only for role credentials delivered to an EC2 instance"),
    KeyFact("aws:Ec2InstanceSourcePrivateIPv4", ABSENT, "set only for role credentials delivered to an EC2 instance"),
    KeyFact("ec2:SourceInstanceArn", ABSENT, "set only for role credentials delivered to an EC2 instance"),
    KeyFact("ec2:RoleDelivery", ABSENT, "set only for role credentials delivered to an EC2 instance"),
    KeyFact("aws:ResourceAccount", PRESENT, "in the request for most actions: the account the call reads "
            "(ABSENT for the few actions AWS lists as not supporting it)"),
    KeyFact("aws:ResourceOrgID", PRESENT, "set when the resource's account is an organization member "
            "(ABSENT for the actions AWS lists)"),
    KeyFact("aws:ResourceOrgPaths", PRESENT, "set when the resource's account is an organization member "
            "(ABSENT for the actions AWS lists)"),
    KeyFact("aws:ResourceTag/", ABSENT, "a list/describe call on \"*\" names no resource whose tags AWS reads"),
    KeyFact("aws:RequestTag/", ABSENT, "set only when tags are passed in the request; list/describe calls pass none"),
    KeyFact("aws:TagKeys", ABSENT, "set only for operations that pass tags; list/describe calls pass none"),
    KeyFact("ec2:Region", PRESENT, "EC2 actions: the region the call is sent to (other services: not in the table)"),
)

ASSUME_KEYS: tuple[KeyFact, ...] = (
    *_request_wide("Datadog's backend calls STS itself"),
    KeyFact("aws:PrincipalArn", PRESENT_UNKNOWN_VALUE, "in every signed request: the ARN of Datadog's own role, "
            "which Datadog does not publish"),
    KeyFact("aws:PrincipalAccount", PRESENT, "always in the request: Datadog's account for the site and partition"),
    KeyFact("aws:PrincipalOrgID", ABSENT, "set only if the principal's account is a member of an organization; "
            "Datadog's account is outside this one and is taken as in none"),
    KeyFact("aws:PrincipalOrgPaths", ABSENT, "set only if the principal's account is a member of an organization; "
            "Datadog's account is outside this one and is taken as in none"),
    KeyFact("aws:PrincipalType", PRESENT_UNKNOWN_VALUE, "always in the request; the type of Datadog's caller is not "
            "published"),
    KeyFact("aws:userid", PRESENT_UNKNOWN_VALUE, "always in the request; the id of Datadog's caller"),
    KeyFact("aws:MultiFactorAuthPresent", PRESENT, "in requests signed with temporary credentials (Datadog's role "
            "session); false: Datadog's automated session uses no MFA", "false"),
    KeyFact("aws:TokenIssueTime", PRESENT_UNKNOWN_VALUE, "in requests signed with temporary credentials; when "
            "Datadog's session was issued is not known"),
    KeyFact("aws:SourceIdentity", ABSENT, _NO_SOURCE_IDENTITY),
    KeyFact("aws:FederatedProvider", UNKNOWN, "set if Datadog's own session came from a web identity or SAML "
            "provider, which is not published"),
    KeyFact("aws:Ec2InstanceSourceVpc", UNKNOWN, "set if Datadog's credentials were delivered to an EC2 instance, "
            "which is not published"),
    KeyFact("aws:Ec2InstanceSourcePrivateIPv4", UNKNOWN, "set if Datadog's credentials were delivered to an EC2 "
            "instance, which is not published"),
    KeyFact("aws:ResourceAccount", PRESENT, "always in the request for sts:AssumeRole: the role's account"),
    KeyFact("aws:ResourceOrgID", PRESENT, "the role's account is a member: this organization's id"),
    KeyFact("aws:ResourceOrgPaths", PRESENT, "the role's account is a member: the account's path"),
    KeyFact("aws:ResourceTag/", PRESENT, "sent for each tag on the role; a tag the role does not have is absent"),
    KeyFact("aws:RequestTag/", ABSENT, _NO_TAGS),
    KeyFact("aws:TagKeys", ABSENT, _NO_TAGS),
    KeyFact("sts:TransitiveTagKeys", ABSENT, _NO_TAGS),
    KeyFact("sts:SourceIdentity", ABSENT, _NO_SOURCE_IDENTITY),
    KeyFact("sts:ExternalId", PRESENT_UNKNOWN_VALUE, "Datadog sends the external id it holds for the account; the "
            "request carries it, the auditor does not see it"),
    KeyFact("sts:RoleSessionName", PRESENT_UNKNOWN_VALUE, "sts:AssumeRole requires a session name; Datadog's choice"),
    KeyFact("sts:RequestContext", ABSENT, "set only when the call passes ProvidedContexts (trusted identity "
            "propagation)"),
    KeyFact("sts:RequestContextProviders", ABSENT, "set only when the call passes ProvidedContexts (trusted identity "
            "propagation)"),
)
# aws:PrincipalTag/* of Datadog's own role: not published, so the family is left out (UNKNOWN).

# An account Datadog reaches with access keys (auth_config holds access_key_id): each probe action is
# signed with an IAM user's long-term keys, in the account. Datadog holds only the key id; which user it
# belongs to (its name, ARN, tags) the auditor does not know. Keys of a role session's temporary
# credentials are absent (IAM User Guide, global condition keys: "Availability").
_USER_UNKNOWN = ("Datadog holds only the access key id, so which IAM user signs is not known to the auditor")
_USER_OVERRIDES: tuple[KeyFact, ...] = (
    KeyFact("aws:PrincipalArn", PRESENT_UNKNOWN_VALUE, f"for an IAM user, the user's ARN; {_USER_UNKNOWN}"),
    KeyFact("aws:PrincipalAccount", PRESENT, "always in the request: the IAM user's account (the monitored one)"),
    KeyFact("aws:PrincipalType", PRESENT, "always in the request: an IAM user signing with its access keys", "User"),
    KeyFact("aws:username", PRESENT_UNKNOWN_VALUE, f"set for IAM users: the user's name; {_USER_UNKNOWN}"),
    KeyFact("aws:userid", PRESENT_UNKNOWN_VALUE, f"always in the request: the IAM user's unique id; {_USER_UNKNOWN}"),
    KeyFact("aws:PrincipalTag/", UNKNOWN, f"sent for each tag on the IAM user; {_USER_UNKNOWN}, nor its tags"),
    KeyFact("aws:MultiFactorAuthPresent", ABSENT, "set only in requests signed with temporary credentials; an IAM "
            "user's access keys are long-term"),
    KeyFact("aws:TokenIssueTime", ABSENT, "set only in requests signed with temporary credentials; an IAM user's "
            "access keys are long-term"),
    KeyFact("aws:SourceIdentity", ABSENT, "set only for role sessions given a source identity; an IAM user's "
            "access keys have none"),
    KeyFact("aws:FederatedProvider", ABSENT, "set only for sessions from AssumeRoleWithWebIdentity or "
            "AssumeRoleWithSAML; an IAM user's access keys are not"),
)


def _with_overrides(base: tuple[KeyFact, ...], overrides: tuple[KeyFact, ...]) -> tuple[KeyFact, ...]:
    by_key = {f.key: f for f in overrides}
    return tuple(by_key.get(f.key, f) for f in base) + tuple(f for f in overrides
                                                             if f.key not in {b.key for b in base})


USER_PROBE_KEYS: tuple[KeyFact, ...] = _with_overrides(PROBE_KEYS, _USER_OVERRIDES)

_NOT_IN_TABLE = "not in the auditor's table of Datadog's requests: it cannot tell whether the key is sent"
_NO_DATADOG_ACCOUNT = "always in the request: Datadog's account, but the site has none in this partition"


@dataclass(frozen=True)
class KeyTable:
    """One request's table, and the Context it gives (built once: requests add per-request values)."""

    facts: tuple[KeyFact, ...]

    def fact(self, key: str) -> KeyFact | None:
        key_lc = key.lower()
        exact = next((f for f in self.facts if not f.family and f.key.lower() == key_lc), None)
        return exact or next((f for f in self.facts if f.family and key_lc.startswith(f.key.lower())), None)

    @property
    def per_request(self) -> tuple[str, ...]:
        """The keys whose values each request gives (families included: one key per tag)."""
        return tuple(f.key for f in self.facts if f.presence is PRESENT and f.value == PER_REQUEST)

    def context(self) -> Context:
        """The table's classes as a Context: fixed values, absent keys and families, unseen values, maybe."""
        by = {p: [f for f in self.facts if f.presence is p] for p in Presence}
        return make_context(
            {f.key: f.value for f in by[PRESENT] if f.value != PER_REQUEST},
            absent=[f.key for f in by[ABSENT] if not f.family],
            # A PRESENT family (the role's tags) is absent for every tag the request does not carry.
            absent_prefixes=[f.key for f in (*by[ABSENT], *by[PRESENT]) if f.family],
            present_unknown=[f.key for f in by[PRESENT_UNKNOWN_VALUE]],
            maybe={f.key: f.maybe for f in by[UNKNOWN] if f.maybe},
            reasons=KeyReasons({f.key: f.why for f in self.facts if not f.family},
                               {f.key: f.why for f in self.facts if f.family}, _NOT_IN_TABLE),
        )

    def without_value(self, key: str, why: str) -> KeyTable:
        """The table with `key` present but its value unknown."""
        return KeyTable(tuple(replace(f, presence=PRESENT_UNKNOWN_VALUE, why=why) if f.key == key else f
                              for f in self.facts))


PROBE = KeyTable(PROBE_KEYS)
USER_PROBE = KeyTable(USER_PROBE_KEYS)
ASSUME = KeyTable(ASSUME_KEYS)
ASSUME_NO_DATADOG = ASSUME.without_value("aws:PrincipalAccount", _NO_DATADOG_ACCOUNT)

# Actions and services AWS lists as not supporting aws:ResourceAccount / ResourceOrgID / ResourceOrgPaths.
RESOURCE_KEYS_UNSUPPORTED_SERVICES = frozenset({"ebs", "events"})
RESOURCE_KEYS_UNSUPPORTED_ACTIONS = frozenset({
    "ec2:copyfpgaimage", "ec2:copyimage", "ec2:copysnapshot", "ec2:createtransitgatewaypeeringattachment",
    "ec2:createvolume", "ec2:createvpcpeeringconnection", "workspaces:copyworkspaceimage",
    "workspaces:describeworkspaceimages",
})


def resource_keys_supported(action: str) -> bool:
    service = action.split(":", 1)[0].lower()
    return service not in RESOURCE_KEYS_UNSUPPORTED_SERVICES and action.lower() not in RESOURCE_KEYS_UNSUPPORTED_ACTIONS
