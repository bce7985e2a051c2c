"""The checks of `policy.checks` as pulumi_policy `ResourceValidationPolicy` objects."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from policy.checks import RULES, Rule, stack_of_urn


def _policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        stack = stack_of_urn(args.urn)
        for message in rule.check(args.resource_type, args.name, args.props, stack):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES = [_policy(rule) for rule in RULES]
BY_NAME = {policy.name: policy for policy in POLICIES}
