"""Run the real Pulumi program offline under a recording mock engine.

No Pulumi engine, provider or PagerDuty account is reachable from CI or a laptop without
credentials, so `irctl render` runs `__main__.py` with `pulumi.runtime.set_mocks` and records
every resource the program registers (components included), with its inputs exactly as the
engine would receive them. Secret values never leave this module in clear text.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import runpy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import rpc
from pulumi.runtime.proto import source_pb2

from iac.redaction import redact
from orgconfig.settings import SECRET_KEYS

PROJECT = "incident-response"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Plan:
    resources: list[PlannedResource]
    outputs: dict[str, dict[str, Any]]  # "type::name" of the owner (or the stack) -> outputs

    def as_json(self) -> dict[str, Any]:
        return {
            "resources": [r.as_json() for r in self.resources],
            "outputs": self.outputs,
        }

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]


@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    parent: str | None  # parent's "type::name", None for the stack's direct children
    custom: bool
    protect: bool
    inputs: dict[str, Any]
    raw_inputs: dict[str, Any]  # with secrets still wrapped: for renderers that need shapes
    # The resource options a reviewer checks: protect, additionalSecretOutputs, aliases and
    # dependsOn (explicit dependencies, as "type::name"), as the engine received them.
    options: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "protect": self.protect,
            "options": self.options,
            "inputs": self.inputs,
        }


def fake_integration_key(name: str) -> str:
    """A stable 32-character stand-in for an Events API v2 routing key."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like a friendly provider and records every registration."""

    def __init__(self) -> None:
        self.resources: list[PlannedResource] = []
        self.pending: dict[str, Any] = {}
        self.urn_names: dict[str, str] = {}
        self.outputs: dict[str, dict[str, Any]] = {}  # "type::name" -> registered outputs

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        request = self.pending.pop(f"{args.typ}::{args.name}", None)
        parent_urn = getattr(request, "parent", "") if request is not None else ""
        parent = self.urn_names.get(parent_urn) if parent_urn else None
        self.resources.append(
            PlannedResource(
                type=args.typ,
                name=args.name,
                parent=parent,
                custom=bool(args.custom),
                protect=bool(getattr(request, "protect", False)),
                inputs=redact(args.inputs),
                raw_inputs=args.inputs,
                options=self.options_of(request),
            )
        )
        state = dict(args.inputs)
        if args.typ == "pagerduty:index/serviceIntegration:ServiceIntegration":
            state["integration_key"] = fake_integration_key(args.name)
        return (f"{args.name}-id" if args.custom else None), state

    def options_of(self, request: Any) -> dict[str, Any]:
        if request is None:
            return {}
        implicit = {urn for deps in request.propertyDependencies.values() for urn in deps.urns}
        return {
            "protect": bool(request.protect),
            "additionalSecretOutputs": sorted(request.additionalSecretOutputs),
            "aliases": [_alias(alias) for alias in request.aliases] + list(request.aliasURNs),
            "dependsOn": sorted(
                self.urn_names.get(urn, urn) for urn in request.dependencies if urn not in implicit
            ),
        }

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        if args.token == "pagerduty:index/getUser:getUser":
            email = str(args.args.get("email", ""))
            return {"id": f"user-{email.split('@')[0]}", "email": email, "name": email}, []
        return {}, []


def _alias(alias: Any) -> dict[str, Any] | str:
    """An alias as the engine got it: a URN, or the spec fields that were set."""
    if alias.HasField("urn"):
        return str(alias.urn)
    return {k: v for k, v in json_format.MessageToDict(alias.spec).items() if v not in ("", None)}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Passes each registration's parent and options to the mocks, which lack them."""

    mocks: RecordingMocks

    def RegisterResource(self, request: Any) -> Any:
        self.mocks.pending[f"{request.type}::{request.name}"] = request
        response = super().RegisterResource(request)
        self.mocks.urn_names[response.urn] = f"{request.type}::{request.name}"
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        owner = self.mocks.urn_names.get(request.urn, "pulumi:pulumi:Stack")
        self.mocks.outputs[owner] = redact(outputs)
        return super().RegisterResourceOutputs(request)


def placeholder_secrets() -> dict[str, str]:
    """Stand-ins for secret stack settings: rendered output shows only "[secret]"."""
    return {f"{PROJECT}:{key}": f"placeholder-{key}" for key in SECRET_KEYS}


def record_program(
    stack: str, config_file: Path, extra_config: dict[str, str] | None = None
) -> Plan:
    """Run `__main__.py` for `stack` with `config_file` and return what it registered."""
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    secrets = placeholder_secrets()
    config = {**secrets, f"{PROJECT}:configFile": str(config_file), **(extra_config or {})}
    pulumi.runtime.set_all_config(config, list(secrets))

    @pulumi.runtime.test
    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__pulumi_program__")

    with _without_source_positions(), paused_gc():
        program()
    return Plan(mocks.resources, mocks.outputs)


@contextlib.contextmanager
def paused_gc(*, collect: bool = True) -> Iterator[None]:
    """No cyclic garbage collection inside: a render builds hundreds of thousands of Outputs,
    futures and dicts that all stay alive until it ends, and the collector rescanning them
    was more than half the CPU time of a 1,000-service render (26 s -> 12 s). One collection
    afterwards frees whatever cycles there were (about a second at 1,000 services; skipped
    with `collect=False` by a process that exits right after); the peak grows by a tenth."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            if collect:
                gc.collect()


@contextlib.contextmanager
def _without_source_positions() -> Iterator[None]:
    """The SDK walks the Python stack on every registration to tell the engine where in the
    program a resource was declared (pulumi 3.272, `runtime.resource._get_stack_trace`): a
    fifth of a large render's time, for positions no mock engine reads."""
    original = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = lambda: source_pb2.StackTrace()
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = original
