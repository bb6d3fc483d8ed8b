"""A source's filter at ingest: which coded events it keeps (`[sources.filter]`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventFilter:
    """A source's filter at ingest (`filter` in cyberlog.toml): rows outside it are counted
    as skipped, not stored. Every part is optional; an empty filter keeps everything."""

    actor_countries: tuple[str, ...] = ()  # alpha-3: keep events with an actor from one of these
    cameo_roots: tuple[str, ...] = ()  # "04", "16": keep these CAMEO roots
    event_classes: tuple[str, ...] = ()  # keep these cyberlog classes
    min_sources: int = 0
    min_mentions: int = 0

    def __bool__(self) -> bool:
        return bool(
            self.actor_countries or self.cameo_roots or self.event_classes or self.min_sources or self.min_mentions
        )
