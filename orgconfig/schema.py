"""The JSON Schema of the org config, for editors (`# yaml-language-server: $schema=...`)."""

from __future__ import annotations

import json
from pathlib import Path

from orgconfig.model import OrgConfig

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "config" / "schema.json"


def schema_text() -> str:
    schema = OrgConfig.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://modulo.example.com/incident-response/config.schema.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
