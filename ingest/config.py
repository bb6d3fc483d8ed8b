"""`cyberlog.toml`: the sources the nightly job ingests.

Paths are globs relative to the config file's own folder, so a config works the same
from cron, from another working directory, or from a checkout of the fixtures.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ingest import formats
from ingest.bursts import BurstSettings
from ingest.clusters import IdentitySettings
from ingest.countries import alpha3
from ingest.errors import ConfigError
from ingest.formats.base import EventFilter
from ingest.records import AttackType, EventClass
from ingest.times import zone

Root = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-9]|20)$")]


class Filter(BaseModel):
    """`[sources.filter]`: which coded events a source keeps (GDELT). Off when absent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actor_countries: list[Annotated[str, AfterValidator(alpha3)]] = []
    cameo_roots: list[Root] = []
    event_classes: list[EventClass] = []
    min_sources: Annotated[int, Field(ge=0)] = 0
    min_mentions: Annotated[int, Field(ge=0)] = 0

    def event_filter(self) -> EventFilter:
        return EventFilter(tuple(self.actor_countries), tuple(self.cameo_roots), tuple(self.event_classes),
                           self.min_sources, self.min_mentions)  # fmt: skip


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    format: str
    path: Annotated[str, Field(min_length=1)]
    timezone: str | None = None
    encoding: str = "utf-8"
    filter: Filter | None = None

    @model_validator(mode="after")
    def _filterable(self) -> Source:
        if self.filter is not None and not formats.get(self.format).filterable:
            filterable = ", ".join(f.name for f in formats.all_formats() if f.filterable)
            raise ValueError(f"format {self.format} takes no filter (formats that do: {filterable})")
        return self

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in formats.names():
            raise ValueError(f"unknown format {value!r}: use one of {', '.join(formats.names())}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value


class Identity(BaseModel):
    """`[identity]`: how tolerant cross-source matching is (see sql/identity.sql)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slack_hours: Annotated[int, Field(ge=0, le=744)] = 24
    min_similarity: Annotated[float, Field(gt=0, le=1)] = 0.5

    def settings(self) -> IdentitySettings:
        return IdentitySettings(self.slack_hours, self.min_similarity)


class Bursts(BaseModel):
    """`[bursts]`: when alerts add up to an incident (see sql/bursts.sql)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_per_minute: Annotated[int, Field(ge=1)] = 60
    max_gap_minutes: Annotated[int, Field(ge=0, le=1440)] = 5
    min_alerts: Annotated[int, Field(ge=1)] = 300
    attack_types: list[AttackType] = []

    def settings(self) -> BurstSettings:
        return BurstSettings(self.min_per_minute, self.max_gap_minutes, self.min_alerts, tuple(self.attack_types))


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rejects: Annotated[int, Field(ge=0)] = 0
    identity: Identity = Identity()
    bursts: Bursts = Bursts()
    sources: Annotated[list[Source], Field(min_length=1)]

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[Source]) -> list[Source]:
        names = [source.name for source in sources]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"source names must be unique: {', '.join(twice)} given twice")
        return sources


def load_config(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the config: {exc.strerror or exc}", path=path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{where}: {message}{more}", path=path) from None


def source_files(config_path: Path, source: Source) -> list[Path]:
    """The files a source's glob matches, relative to the config, in name order."""
    base = config_path.parent
    pattern = Path(source.path)
    if pattern.is_absolute():
        base, pattern = Path(pattern.anchor), pattern.relative_to(pattern.anchor)
    try:
        matches = sorted(base.glob(str(pattern)))
    except (ValueError, NotImplementedError) as exc:
        raise ConfigError(
            f"source {source.name}: path {source.path!r} is not a usable glob ({exc})", path=config_path
        ) from None
    # a MISP feed folder stands for its event files; other folders are not inputs
    return [file for path in matches for file in formats.expand(path) if file != path or path.is_file()]
