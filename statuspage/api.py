"""Request bodies of the responder API, validated before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from statuspage.inputs import Moment, Text
from statuspage.state import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


Name = Field(min_length=1, max_length=200)
ComponentId = Annotated[str, Field(max_length=63)]
Message = Field(min_length=1, max_length=10_000)


class IncidentCreate(_Body):
    name: Text = Name
    status: IncidentStatus = "investigating"
    body: Text = Message
    impact: Impact = "minor"
    components: list[ComponentId] = Field(default_factory=list, max_length=100)


class IncidentUpdate(_Body):
    status: IncidentStatus
    body: Text = Message


class IncidentResolve(_Body):
    body: Text = Field("This incident has been resolved.", min_length=1, max_length=10_000)
    status: Literal["resolved", "postmortem"] = "resolved"


class MaintenanceCreate(_Body):
    name: Text = Name
    body: Text = Message
    scheduled_for: Moment
    scheduled_until: Moment
    components: list[ComponentId] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _window(self) -> MaintenanceCreate:
        if self.scheduled_until <= self.scheduled_for:
            raise ValueError("scheduled_until must be after scheduled_for")
        return self


class MaintenanceUpdate(_Body):
    status: MaintenanceStatus
    body: Text = Message


class ComponentOverride(_Body):
    status: ComponentStatus
    reason: Text | None = Field(None, max_length=1000)


def as_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
