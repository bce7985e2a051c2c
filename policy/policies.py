"""The checks of `policy.checks` as pulumi_policy `ResourceValidationPolicy` objects."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.checks import RULES, Rule, stack_of_urn
from policy.secrets import SECRET_RULES, stack_file_problems


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


def _plain_text_secrets(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    stacks = {stack_of_urn(r.urn) for r in args.resources} - {""}
    for stack in sorted(stacks):
        for message in stack_file_problems(stack):
            report_violation(message, None)


SECRETS_IN_STACK_FILE = StackValidationPolicy(
    name="no-plain-text-secret-settings",
    description="Secret settings in Pulumi.<stack>.yaml are `secure:` values, never plain text.",
    validate=_plain_text_secrets,
    enforcement_level=EnforcementLevel.MANDATORY,
)

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    *(_policy(rule) for rule in [*RULES, *SECRET_RULES]),
    SECRETS_IN_STACK_FILE,
]
BY_NAME = {policy.name: policy for policy in POLICIES}
