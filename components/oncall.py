"""PagerDuty on-call components: translate `oncall.desired` specs into provider resources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_pagerduty as pagerduty

from oncall.desired import EventSpec, PolicySpec, ScheduleSpec, ServiceSpec, TeamSpec

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


def _layers(
    spec: ScheduleSpec, user_ids: Mapping[str, pulumi.Input[str]]
) -> list[pagerduty.ScheduleLayerArgs]:
    # Bottom layer first, as the provider reads them back (terraform-provider-pagerduty
    # `flattenScheduleLayers` reverses the API's top-first order): no diff after import.
    return [
        pagerduty.ScheduleLayerArgs(
            name=layer.name,
            start=layer.start,
            rotation_virtual_start=layer.rotation_virtual_start,
            rotation_turn_length_seconds=layer.rotation_turn_length_seconds,
            users=[user_ids[person] for person in layer.users],
            restrictions=[
                pagerduty.ScheduleLayerRestrictionArgs(
                    type=r.type,
                    start_time_of_day=r.start_time_of_day,
                    duration_seconds=r.duration_seconds,
                    start_day_of_week=r.start_day_of_week,
                )
                for r in layer.restrictions
            ]
            or None,
        )
        for layer in spec.layers
    ]


@dataclass
class ScheduleArgs:
    spec: ScheduleSpec
    user_ids: Mapping[str, pulumi.Input[str]]
    team_ids: Mapping[str, pulumi.Input[str]]


class Schedule(pulumi.ComponentResource):
    schedule_id: pulumi.Output[str]
    rotation_ids: pulumi.Output[list[str | None]]  # in config order (overrides name them)

    def __init__(self, name: str, args: ScheduleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{PKG}:Schedule", name, None, opts)
        spec = args.spec
        if spec.layers:
            # A legacy layered schedule adopted as it is (docs/oncall.md): same type and name
            # as `irctl import` writes into the bulk import file.
            legacy = pagerduty.Schedule(
                name,
                name=spec.name,
                description=spec.description or None,
                time_zone=spec.time_zone,
                teams=[args.team_ids[spec.team]] if spec.team else None,
                layers=_layers(spec, args.user_ids),
                opts=_child(self),
            )
            self.schedule_id = legacy.id
            self.rotation_ids = pulumi.Output.from_input([])
            self.register_outputs({"schedule_id": self.schedule_id})
            return
        # Shift-based (API v3) schedule; the legacy `Schedule` is deprecated in the provider.
        # Same resource name as before: see docs/oncall.md for migrating existing stacks.
        schedule = pagerduty.Schedulev2(
            name,
            name=spec.name,
            description=spec.description or None,
            time_zone=spec.time_zone,
            teams=[args.team_ids[spec.team]] if spec.team else None,
            rotations=_rotations(spec, args.user_ids),
            opts=_child(self),
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
