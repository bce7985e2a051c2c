"""The public status page as declared in the org config (rendered for the status page service)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Component(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    description: str = ""


class ComponentGroup(_Strict):
    name: str = Field(min_length=1)
    components: list[Component] = Field(min_length=1)


class StatusPageSettings(_Strict):
    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")
    domain: str = Field(min_length=1)
    groups: list[ComponentGroup] = Field(min_length=1)

    def component_ids(self) -> list[str]:
        return [c.id for g in self.groups for c in g.components]
