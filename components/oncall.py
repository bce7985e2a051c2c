"""PagerDuty on-call components: translate `oncall.desired` specs into provider resources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_pagerduty as pagerduty

from oncall.desired import EventSpec, PolicySpec, ScheduleSpec, ServiceSpec, TeamSpec

PKG = "incident-response:oncall"


def _child(parent: pulumi.Resource, protect: bool = False) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, protect=protect)


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


def _rotations(
    spec: ScheduleSpec, user_ids: Mapping[str, pulumi.Input[str]]
) -> list[pagerduty.Schedulev2RotationArgs]:
    def strategy(event: EventSpec) -> pagerduty.Schedulev2RotationEventAssignmentStrategyArgs:
        return pagerduty.Schedulev2RotationEventAssignmentStrategyArgs(
            type="rotating_member_assignment_strategy",
            shifts_per_member=event.shifts_per_member,
            members=[
                pagerduty.Schedulev2RotationEventAssignmentStrategyMemberArgs(
                    type="user_member", user_id=user_ids[person]
                )
                for person in event.members
            ],
        )

    return [
        pagerduty.Schedulev2RotationArgs(
            events=[
                pagerduty.Schedulev2RotationEventArgs(
                    name=event.name,
                    start_time=event.start_time,
                    end_time=event.end_time,
                    effective_since=event.effective_since,
                    recurrences=list(event.recurrences),
                    assignment_strategies=[strategy(event)],
                )
                for event in rotation.events
            ]
        )
        for rotation in spec.rotations
    ]


@dataclass
class ScheduleArgs:
    spec: ScheduleSpec
    user_ids: Mapping[str, pulumi.Input[str]]
    team_ids: Mapping[str, pulumi.Input[str]]
    protect: bool = True


class Schedule(pulumi.ComponentResource):
    schedule_id: pulumi.Output[str]
    rotation_ids: pulumi.Output[list[str | None]]  # in config order (overrides name them)

    def __init__(self, name: str, args: ScheduleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{PKG}:Schedule", name, None, opts)
        spec = args.spec
        # Shift-based (API v3) schedule; the legacy `Schedule` is deprecated in the provider.
        # Same resource name as before: see docs/oncall.md for migrating existing stacks.
        schedule = pagerduty.Schedulev2(
            name,
            name=spec.name,
            description=spec.description or None,
            time_zone=spec.time_zone,
            teams=[args.team_ids[spec.team]] if spec.team else None,
            rotations=_rotations(spec, args.user_ids),
            opts=_child(self, args.protect),
        )
        self.schedule_id = schedule.id
        self.rotation_ids = schedule.rotations.apply(
            lambda rotations: [getattr(r, "id", None) for r in rotations or []]
        )
        self.register_outputs({"schedule_id": self.schedule_id})


@dataclass
class EscalationPolicyArgs:
    spec: PolicySpec
    user_ids: Mapping[str, pulumi.Input[str]]
    schedule_ids: Mapping[str, pulumi.Input[str]]
    team_ids: Mapping[str, pulumi.Input[str]]
    protect: bool = True


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
            opts=_child(self, args.protect),
        )
        self.policy_id = policy.id
        self.register_outputs({"policy_id": self.policy_id})


@dataclass
class PagedServiceArgs:
    spec: ServiceSpec
    policy_id: pulumi.Input[str]
    protect: bool = True


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
            alert_creation="create_alerts_and_incidents",
            incident_urgency_rule=pagerduty.ServiceIncidentUrgencyRuleArgs(
                type="constant", urgency=spec.urgency
            ),
            opts=_child(self, args.protect),
        )
        integration = pagerduty.ServiceIntegration(
            f"{name}-events-v2",
            name=spec.integration_name,
            service=service.id,
            type=spec.integration_type,
            opts=_child(self, args.protect),
        )
        self.service_id = service.id
        # The provider schema does not mark integration_key secret: do it here.
        self.integration_key = pulumi.Output.secret(integration.integration_key)
        self.register_outputs(
            {"service_id": self.service_id, "integration_key": self.integration_key}
        )
