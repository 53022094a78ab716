"""Load and validate the definitions in `workflows/definitions/*.yaml`.

A definition describes one restricted API and what a request for it goes through. A bad file stops
start-up with a `DefinitionError` naming the file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, model_validator

DEFINITIONS_DIR = Path(__file__).parent / "definitions"

# The form blocks a definition may use, in the order a request shows them.
BLOCK_KEYS = ("basic_infos", "legal", "personal_data", "scopes", "contacts", "volumes")


class DefinitionError(Exception):
    """A definition file that cannot be loaded; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provider(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    url: HttpUrl | None = None


class Scope(_Strict):
    value: str = Field(pattern=r"^[a-z0-9_.:-]+$")
    label: str
    group: str = "Données"
    included: bool = False  # always granted, shown checked and locked
    disabled: bool = False  # shown, but no longer grantable
    link: HttpUrl | None = None


class Features(_Strict):
    messaging: bool = True
    reopening: bool = True
    transfer: bool = True


class Stage(_Strict):
    type: Literal["sandbox", "production"]
    # The definition whose validated request this stage starts from (production after sandbox).
    previous: str | None = None


class TokenPolicy(_Strict):
    lifetime: int = Field(default=3600, ge=60, le=86400)


class Definition(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    provider: Provider
    description: str
    access: str  # modalities of access, shown on the catalogue ("modalités d'accès")
    documentation_url: HttpUrl
    terms_url: HttpUrl
    public: bool = True
    sandbox: bool = False  # the API offers a sandbox environment
    stage: Stage | None = None
    blocks: list[Literal[BLOCK_KEYS]] = Field(min_length=1)  # type: ignore[valid-type]
    scopes: list[Scope] = Field(default_factory=list)
    volumes: list[int] = Field(default_factory=list)
    features: Features = Features()
    token: TokenPolicy = TokenPolicy()
    # Authorization lifetime in days; none means it does not expire.
    authorization_lifetime_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _coherent(self) -> Definition:
        if len(set(self.blocks)) != len(self.blocks):
            raise ValueError("blocks: a block is listed twice")
        values = [s.value for s in self.scopes]
        if len(set(values)) != len(values):
            raise ValueError("scopes: a scope value is listed twice")
        if any(s.included and s.disabled for s in self.scopes):
            # An included scope is always granted: disabling it would make every request invalid.
            raise ValueError("scopes: a scope cannot be both included and disabled")
        if "scopes" in self.blocks and not any(not s.disabled for s in self.scopes):
            raise ValueError("scopes: the 'scopes' block needs at least one grantable scope")
        if "volumes" in self.blocks and not self.volumes:
            raise ValueError("volumes: the 'volumes' block needs a list of volumes")
        return self

    @property
    def ordered_blocks(self) -> list[str]:
        return [key for key in BLOCK_KEYS if key in self.blocks]

    @property
    def grantable_scopes(self) -> list[Scope]:
        return [s for s in self.scopes if not s.disabled]

    @property
    def scope_groups(self) -> dict[str, list[Scope]]:
        groups: dict[str, list[Scope]] = {}
        for scope in self.scopes:
            groups.setdefault(scope.group, []).append(scope)
        return groups


def _format_error(path: Path, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        message = item["msg"]
        if not field and item["type"] == "value_error":
            # The cross-field checks of Definition start their message with the field's name.
            field, _, message = str(item["ctx"]["error"]).partition(": ")
        lines.append(f"{path.name}: field '{field or '(top level)'}': {message}")
    return "invalid definition " + "; ".join(lines)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice (PyYAML would keep the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_definition(path: Path) -> Definition:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"{path.name}: not valid UTF-8: {exc}") from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path.name}: expected a mapping at the top level")
    try:
        definition = Definition.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError(_format_error(path, exc)) from exc
    if definition.id != path.stem:
        raise DefinitionError(
            f"{path.name}: field 'id': {definition.id!r} must match the file name {path.stem!r}"
        )
    return definition


def load_definitions(directory: Path = DEFINITIONS_DIR) -> dict[str, Definition]:
    """All definitions of a directory, keyed by id, checked against each other."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise DefinitionError(f"no definition found in {directory}")
    definitions = {d.id: d for d in (load_definition(p) for p in files)}
    for definition in definitions.values():
        previous = definition.stage.previous if definition.stage else None
        if previous is not None and previous not in definitions:
            raise DefinitionError(
                f"{definition.id}.yaml: field 'stage.previous': unknown definition {previous!r}"
            )
    return definitions
