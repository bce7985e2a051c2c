"""Pulumi entry point: read the stack config, load the typed org config, build, export."""

from pathlib import Path

import pulumi

from components.settings import StackSettings
from components.stack import IncidentResponse, IncidentResponseArgs
from orgconfig.load import ConfigError, load_config
from orgconfig.settings import DEFAULTS, SECRET_KEYS

config = pulumi.Config("incident-response")
stack = pulumi.get_stack()
settings = StackSettings(
    stack=stack,
    secrets={key: secret for key in SECRET_KEYS if (secret := config.get_secret(key)) is not None},
    values={key: value for key in DEFAULTS if (value := config.get(key)) is not None},
)
try:
    org = load_config(
        Path(config.get("configFile") or f"config/{stack}.yaml"),
        page_test_service=settings.value("pageTestService"),
    )
except ConfigError as exc:  # every problem with file:line, no Python traceback in `pulumi up`
    raise pulumi.RunError(exc.report()) from None
# Named from the org's stable id; aliases keep the URNs of stacks created under the old name.
incident_response = IncidentResponse(
    org.org.resource_name,
    IncidentResponseArgs(org, settings),
    pulumi.ResourceOptions(aliases=[pulumi.Alias(name=n) for n in org.org.resource_aliases]),
)

pulumi.export("service_ids", incident_response.service_ids)
pulumi.export("integration_keys", incident_response.integration_keys)
