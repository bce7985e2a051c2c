"""Pulumi entry point: read the stack config, load the typed org config, build, export."""

from pathlib import Path

import pulumi

from components.settings import DEFAULTS, SECRET_KEYS, StackSettings
from components.stack import IncidentResponse, IncidentResponseArgs
from orgconfig.load import load_config

config = pulumi.Config("incident-response")
stack = pulumi.get_stack()
org = load_config(Path(config.get("configFile") or f"config/{stack}.yaml"))
settings = StackSettings(
    stack=stack,
    secrets={key: secret for key in SECRET_KEYS if (secret := config.get_secret(key)) is not None},
    values={key: value for key in DEFAULTS if (value := config.get(key)) is not None},
)
incident_response = IncidentResponse(org.org.name.lower(), IncidentResponseArgs(org, settings))

pulumi.export("service_ids", incident_response.service_ids)
pulumi.export("integration_keys", incident_response.integration_keys)
