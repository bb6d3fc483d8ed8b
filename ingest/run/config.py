"""`cyberlog.toml`: the sources the nightly job ingests.

Paths are globs relative to the config file's own folder, so a config works the same
from cron, from another working directory, or from a checkout of the fixtures. A remote
source has a `url` instead (a GDELT file list, a MISP feed, a TAXII 2.1 API root); its
credentials come from the environment or a file named in `[sources.auth]`, never from
the config itself.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ingest import formats
from ingest.canon.countries import alpha3
from ingest.canon.filters import EventFilter
from ingest.canon.records import AttackType, EventClass
from ingest.canon.times import zone
from ingest.derive.bursts import BurstSettings
from ingest.derive.clusters import IdentitySettings
from ingest.errors import ConfigError, UsageError
from ingest.run.settled import LocalSource, Settled

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
        return EventFilter(
            tuple(self.actor_countries),
            tuple(self.cameo_roots),
            tuple(self.event_classes),
            self.min_sources,
            self.min_mentions,
        )


EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
REMOTE_FORMATS = {"gdelt": "a GDELT file list", "misp": "a MISP feed", "stix": "a TAXII 2.1 API root"}


class Auth(BaseModel):
    """`[sources.auth]`: where a remote source's credentials are. Only names of
    environment variables and files: a secret written in the config would be refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username_env: EnvName | None = None  # HTTP basic auth: user and password
    password_env: EnvName | None = None
    password_file: str | None = None
    token_env: EnvName | None = None  # or a token sent in a header
    token_file: str | None = None
    header: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]+$")] = "Authorization"
    scheme: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]*$")] = "Bearer"  # MISP's automation key: scheme = ""

    @model_validator(mode="after")
    def _one_kind(self) -> Auth:
        basic = self.username_env is not None
        token = self.token_env is not None or self.token_file is not None
        password = self.password_env is not None or self.password_file is not None
        if basic == token:
            raise ValueError("give username_env (with password_env or password_file) or token_env or token_file")
        if basic and not password:
            raise ValueError("username_env needs password_env or password_file")
        if token and password:
            raise ValueError("a token and a password: give one kind of credential")
        if self.token_env is not None and self.token_file is not None:
            raise ValueError("give token_env or token_file, not both")
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("give password_env or password_file, not both")
        return self

    def resolve(self, base: Path) -> tuple[tuple[str, str] | None, dict[str, str]]:
        """(basic user and password, headers) read now, from the environment or files;
        ValueError naming the variable or file (never its content) when one is missing."""
        if self.username_env is not None:
            return (_env(self.username_env), self._secret(self.password_env, self.password_file, base)), {}
        token = self._secret(self.token_env, self.token_file, base)
        return None, {self.header: f"{self.scheme} {token}" if self.scheme else token}

    @staticmethod
    def _secret(env: str | None, file: str | None, base: Path) -> str:
        if env is not None:
            return _env(env)
        assert file is not None
        path = base / file
        try:
            secret = path.read_text("utf-8").strip()
        except (OSError, UnicodeError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise ValueError(f"cannot read the credentials file {path}: {why}") from None
        if not secret:
            raise ValueError(f"the credentials file {path} is empty")
        return secret


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ValueError(f"environment variable {name} is not set")
    return value


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    format: str
    path: Annotated[str, Field(min_length=1)] | None = None
    url: str | None = None  # a remote source: see REMOTE_FORMATS
    collection: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] | None = None  # TAXII collection id
    since: date | None = None  # remote: fetch nothing older (GDELT batches, TAXII date_added)
    auth: Auth | None = None
    timezone: str | None = None
    encoding: str = "utf-8"
    filter: Filter | None = None

    @model_validator(mode="after")
    def _filterable(self) -> Source:
        if self.filter is not None and not formats.get(self.format).filterable:
            filterable = ", ".join(f.name for f in formats.all_formats() if f.filterable)
            raise ValueError(f"format {self.format} takes no filter (formats that do: {filterable})")
        return self

    @model_validator(mode="after")
    def _path_or_url(self) -> Source:
        if (self.path is None) == (self.url is None):
            raise ValueError("give path (local files) or url (a remote source), not both or neither")
        remote_only = [k for k in ("collection", "since", "auth") if getattr(self, k) is not None]
        if self.url is None and remote_only:
            raise ValueError(f"{', '.join(remote_only)}: only for a source with a url")
        if self.url is None:
            return self
        if self.format not in REMOTE_FORMATS:
            kinds = "; ".join(f"{name}: {what}" for name, what in REMOTE_FORMATS.items())
            raise ValueError(f"format {self.format} has no remote kind ({kinds})")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url {self.url!r} is not an http(s) URL")
        if parts.username or parts.password:
            raise ValueError("url carries credentials: name them in [sources.auth] (environment or file) instead")
        if (self.format == "stix") != (self.collection is not None):
            raise ValueError("a TAXII source (format stix with a url) needs collection, and only it takes one")
        if self.format == "gdelt" and "masterfilelist" in parts.path and self.since is None:
            raise ValueError("a GDELT master file list goes back to 2015: give since, the first day to fetch")
        return self

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in formats.names():
            raise ValueError(formats.unknown(value))
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
    max_url_share: Annotated[int, Field(ge=2, le=10_000)] = 10

    def settings(self) -> IdentitySettings:
        return IdentitySettings(self.slack_hours, self.min_similarity, self.max_url_share)


class Bursts(BaseModel):
    """`[bursts]`: when alerts add up to an incident (see sql/bursts.sql)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_per_minute: Annotated[int, Field(ge=1)] = 60
    max_gap_minutes: Annotated[int, Field(ge=0, le=1440)] = 5
    min_alerts: Annotated[int, Field(ge=1)] = 300
    attack_types: list[AttackType] = []
    count: Literal["alerts", "events"] = "alerts"

    def settings(self) -> BurstSettings:
        return BurstSettings(
            self.min_per_minute, self.max_gap_minutes, self.min_alerts, tuple(self.attack_types), self.count
        )


class Fetch(BaseModel):
    """`[fetch]`: how remote sources are downloaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dir: Annotated[str, Field(min_length=1)] = "downloads"  # relative to the config; one folder per source
    keep: bool = True  # keep downloaded files (rejects replay reads them again); else removed once loaded
    timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0  # connect, and between bytes read
    download_seconds: Annotated[float, Field(gt=0)] = 1800.0  # the most one download may take in all
    retries: Annotated[int, Field(ge=0, le=20)] = 4  # after the first try, on timeouts, 429 and 5xx
    backoff_seconds: Annotated[float, Field(ge=0, le=600)] = 2.0  # first wait; doubles, with jitter
    max_wait_seconds: Annotated[float, Field(ge=0)] = 300.0  # longest wait, Retry-After included
    page_size: Annotated[int, Field(ge=1, le=100_000)] = 1000  # TAXII objects per request

    def folder(self, config_path: Path, source: str) -> Path:
        return config_path.parent / self.dir / source


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rejects: Annotated[int, Field(ge=0)] = 0
    identity: Identity = Identity()
    bursts: Bursts = Bursts()
    fetch: Fetch = Fetch()
    sources: Annotated[list[Source], Field(min_length=1)]

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[Source]) -> list[Source]:
        names = [source.name for source in sources]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"source names must be unique: {', '.join(twice)} given twice")
        return sources

    def local(self) -> tuple[LocalSource, ...]:
        """The sources of local files (a remote source's come from ingest.feeds)."""
        return tuple(
            LocalSource(s.name, s.path, s.format, s.timezone, s.encoding, s.filter.event_filter() if s.filter else None)
            for s in self.sources
            if s.path is not None
        )

    def settled(self) -> Settled | None:
        """All a nightly needs of this config, kept for the next (see ingest.run.settled);
        None when a source is remote."""
        if any(s.url is not None for s in self.sources):
            return None
        return Settled(self.max_rejects, self.identity.settings(), self.bursts.settings(), self.local())


def load_config(path: Path, text: bytes | None = None) -> Config:
    """The config at `path` (whose bytes are `text` when the caller read them), validated."""
    try:
        data = tomllib.loads((path.read_bytes() if text is None else text).decode("utf-8"))
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


def write_template(path: Path, *, force: bool = False) -> None:
    """A commented cyberlog.toml to start from: one source to fill in, the others as examples."""
    from importlib import resources

    if path.exists() and not force:
        raise UsageError(f"{path} exists: edit it, or pass --force to overwrite it")
    template = resources.files("ingest").joinpath("data/cyberlog.toml.template").read_text("utf-8")
    path.write_text(template, "utf-8")
