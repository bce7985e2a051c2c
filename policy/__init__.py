"""The mandatory policy pack (pulumi_policy) and the same checks as plain functions.

`policy.checks` holds the rules as pure functions over (type, name, inputs, stack) so that
`irctl validate` runs them over the rendered plan and tests call them without a gRPC server;
`policy.policies` wraps them as `ResourceValidationPolicy` objects; `policy/__main__.py` is the
pack's entry point (`pulumi preview --policy-pack policy/`), never imported by tests.
"""
