"""PagerDuty on-call components: translate `oncall.desired` specs into provider resources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_pagerduty as pagerduty

from oncall.desired import PolicySpec, ScheduleSpec, ServiceSpec, TeamSpec

PKG = "incident-response:oncall"


def _child(parent: pulumi.Resource) -> pulumi.ResourceOptions:
    # `protect` is not set here: children inherit it from the component's own options.
    return pulumi.ResourceOptions(parent=parent)


@dataclass
class TeamArgs:
    spec: TeamSpec
    user_ids: Mapping[str, pulumi.Input[str]]  # person id -> PagerDuty user id


class Team(pulumi.ComponentResource):
    team_id: pulumi.Output[str]

    def __init__(self, name: str, args: TeamArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{PKG}:Team", name, None, opts)
        team = pagerduty.Team(
            name, name=args.spec.name, description=args.spec.description, opts=_child(self)
        )
        for person, role in args.spec.members:
            pagerduty.TeamMembership(
                f"{name}-{person}",
                team_id=team.id,
                user_id=args.user_ids[person],
                role=role,
                opts=_child(self),
            )
        self.team_id = team.id
        self.register_outputs({"team_id": self.team_id})


@dataclass
class ScheduleArgs:
    spec: ScheduleSpec
    user_ids: Mapping[str, pulumi.Input[str]]
    team_ids: Mapping[str, pulumi.Input[str]]


class Schedule(pulumi.ComponentResource):
    schedule_id: pulumi.Output[str]

    def __init__(self, name: str, args: ScheduleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{PKG}:Schedule", name, None, opts)
        spec = args.spec
        schedule = pagerduty.Schedule(
            name,
            name=spec.name,
            description=spec.description or None,
            time_zone=spec.time_zone,
            teams=[args.team_ids[spec.team]] if spec.team else None,
            layers=[
                pagerduty.ScheduleLayerArgs(
                    name=layer.name,
                    start=layer.start,
                    rotation_virtual_start=layer.rotation_virtual_start,
                    rotation_turn_length_seconds=layer.rotation_turn_length_seconds,
                    users=[args.user_ids[person] for person in layer.users],
                    restrictions=[
                        pagerduty.ScheduleLayerRestrictionArgs(**r)  # type: ignore[arg-type]
                        for r in layer.restrictions
                    ]
                    or None,
                )
                for layer in spec.layers
            ],
            opts=_child(self),
        )
        self.schedule_id = schedule.id
        self.register_outputs({"schedule_id": self.schedule_id})


@dataclass
class EscalationPolicyArgs:
    spec: PolicySpec
    user_ids: Mapping[str, pulumi.Input[str]]
    schedule_ids: Mapping[str, pulumi.Input[str]]
    team_ids: Mapping[str, pulumi.Input[str]]


class EscalationPolicy(pulumi.ComponentResource):
    policy_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: EscalationPolicyArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(f"{PKG}:EscalationPolicy", name, None, opts)
        spec = args.spec
        ids = {"schedule_reference": args.schedule_ids, "user_reference": args.user_ids}
        policy = pagerduty.EscalationPolicy(
            name,
            name=spec.name,
            description=spec.description or None,
            num_loops=spec.num_loops,
            teams=args.team_ids[spec.team] if spec.team else None,
            rules=[
                pagerduty.EscalationPolicyRuleArgs(
                    escalation_delay_in_minutes=rule.delay_minutes,
                    targets=[
                        pagerduty.EscalationPolicyRuleTargetArgs(type=kind, id=ids[kind][ref])
                        for kind, ref in rule.targets
                    ],
                )
                for rule in spec.rules
            ],
            opts=_child(self),
        )
        self.policy_id = policy.id
        self.register_outputs({"policy_id": self.policy_id})


@dataclass
class PagedServiceArgs:
    spec: ServiceSpec
    policy_id: pulumi.Input[str]


class PagedService(pulumi.ComponentResource):
    service_id: pulumi.Output[str]
    integration_key: pulumi.Output[str]  # secret: the Events API v2 routing key

    def __init__(
        self, name: str, args: PagedServiceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(f"{PKG}:PagedService", name, None, opts)
        spec = args.spec
        service = pagerduty.Service(
            name,
            name=spec.name,
            description=spec.description or None,
            escalation_policy=args.policy_id,
            acknowledgement_timeout=spec.acknowledgement_timeout,
            auto_resolve_timeout=spec.auto_resolve_timeout,
            incident_urgency_rule=pagerduty.ServiceIncidentUrgencyRuleArgs(
                type="constant", urgency=spec.urgency
            ),
            opts=_child(self),
        )
        integration = pagerduty.ServiceIntegration(
            f"{name}-events-v2",
            name=spec.integration_name,
            service=service.id,
            type=spec.integration_type,
            # The provider schema does not mark integration_key secret, so without this the
            # key would sit in plain text in the stack's state (FACTS.md, CORRECTION).
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["integration_key"]),
        )
        self.service_id = service.id
        self.integration_key = pulumi.Output.secret(integration.integration_key)
        self.register_outputs(
            {"service_id": self.service_id, "integration_key": self.integration_key}
        )
