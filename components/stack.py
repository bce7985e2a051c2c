"""The top-level component: one organisation's incident response, from its typed config."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_pagerduty as pagerduty

from alerts.alertmanager import StatusPageHook
from components.alerting import AlertDelivery, AlertDeliveryArgs
from components.oncall import (
    EscalationPolicy,
    EscalationPolicyArgs,
    PagedService,
    PagedServiceArgs,
    Schedule,
    ScheduleArgs,
    Team,
    TeamArgs,
)
from components.settings import StackSettings
from components.statuspage import StatusPage, StatusPageArgs, deploy_settings
from components.toolbox import Toolbox, ToolboxArgs
from deploy.kubernetes import statuspage_webhook_url
from oncall.desired import pagerduty_state
from orgconfig.model import OrgConfig


@dataclass
class IncidentResponseArgs:
    org: OrgConfig
    settings: StackSettings


class IncidentResponse(pulumi.ComponentResource):
    service_ids: pulumi.Output[dict[str, str]]
    integration_keys: pulumi.Output[dict[str, str]]  # secret

    def __init__(
        self, name: str, args: IncidentResponseArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("incident-response:index:IncidentResponse", name, None, opts)
        state = pagerduty_state(args.org)
        child = pulumi.ResourceOptions(parent=self)
        # Paging resources are protected from deletion (deployment.protect): the option is
        # set on their components and inherited by every resource inside them.
        paging = pulumi.ResourceOptions(parent=self, protect=state.protect)

        # Users come from SSO: look them up by their exact email, never create them.
        user_ids = {
            person: pagerduty.get_user_output(
                email=email, opts=pulumi.InvokeOptions(parent=self)
            ).id
            for person, email in state.people.items()
        }
        teams = {spec.id: Team(spec.id, TeamArgs(spec, user_ids), child) for spec in state.teams}
        team_ids = {team_id: team.team_id for team_id, team in teams.items()}
        schedule_ids = {
            spec.id: Schedule(spec.id, ScheduleArgs(spec, user_ids, team_ids), paging).schedule_id
            for spec in state.schedules
        }
        policy_ids = {
            spec.id: EscalationPolicy(
                spec.id,
                EscalationPolicyArgs(spec, user_ids, schedule_ids, team_ids),
                paging,
            ).policy_id
            for spec in state.policies
        }
        services = {
            spec.id: PagedService(spec.id, PagedServiceArgs(spec, policy_ids[spec.policy]), paging)
            for spec in state.services
        }
        self.services = services

        # --- Kubernetes: status page and incident-manager toolbox (issue 5; deploy/) ---
        namespace: list[pulumi.Resource] = []
        # Every alert also reaches the status page's webhook (needs its API token).
        statuspage_token = args.settings.secret("statuspageApiToken")
        statuspage_hook: StatusPageHook | None = None
        if args.org.status_page is not None:
            self.status_page = StatusPage(
                "statuspage", StatusPageArgs(args.org, args.settings), child
            )
            namespace = [self.status_page.namespace_resource]
            if statuspage_token is not None:
                statuspage_hook = StatusPageHook(
                    statuspage_webhook_url(deploy_settings(args.settings))
                )
        self.toolbox = Toolbox(
            "incident-manager",
            ToolboxArgs(
                args.org,
                args.settings,
                {sid: s.integration_key for sid, s in services.items()},
                namespace,
            ),
            child,
        )
        # --- end of the Kubernetes block ---
        self.service_ids = pulumi.Output.all(**{sid: s.service_id for sid, s in services.items()})
        self.integration_keys = pulumi.Output.secret(
            pulumi.Output.all(**{sid: s.integration_key for sid, s in services.items()})
        )

        # --- Alerting (issue 3): PrometheusRule + Alertmanager config Secret --------------
        self.alerting = AlertDelivery(
            "alerting",
            AlertDeliveryArgs(
                org=args.org,
                settings=args.settings,
                routing_keys={sid: s.integration_key for sid, s in services.items()},
                statuspage=statuspage_hook,  # issue 5: the status page webhook
                statuspage_token=statuspage_token,  # issue 5
            ),
            child,
        )
        # --- end alerting -------------------------------------------------------------------

        self.register_outputs(
            {"service_ids": self.service_ids, "integration_keys": self.integration_keys}
        )
