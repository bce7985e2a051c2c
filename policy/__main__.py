"""Policy pack entry point: `pulumi preview --policy-pack policy/`. Starts a gRPC server;
never import this module (tests use `policy.policies`)."""

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.policies import POLICIES

PolicyPack(
    name="incident-response",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=list(POLICIES),
)
