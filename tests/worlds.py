"""Seeded synthetic worlds that look like real timelines, for calibrating the reports.

Real attack and event series share what makes naive baselines lie: both surge in the same
months (a crisis), both follow the working week, attacks come in bursts (a campaign over a
few days) and events cluster (a summit is reported over several days, by several classes).
A null world draws attacks and events independently *given* that shared surge, trend and
weekday rhythm, so any day-level link between them is chance; a planted world adds
attacks a fixed number of days after the events of one class.

A world is written straight into a real cyberlog store (the store's own schema, one
INSERT per table), so a calibration can run many of them in seconds.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ingest.store import open_store

START = date(2020, 1, 6)  # a Monday
CLASSES = ("talks", "sanction", "military")


@dataclass(frozen=True)
class Shape:
    """What the world shares between its two series, and how busy each is."""

    days: int = 730
    attack_episodes: float = 0.35  # campaigns a day at the base rate
    burst_mean: float = 1.5  # extra attacks per campaign, spread over its next two days
    event_episodes: float = 0.06  # episodes a day per class at the base rate
    surge: tuple[int, int] = (420, 520)  # days of the crisis, when both series intensify
    surge_factor: float = 5.0
    ramp: int = 0  # days over which the surge builds up and dies down (0: a sudden step)
    trend: tuple[float, float] = (0.5, 1.5)  # slow change of both rates over the span
    quiet: tuple[int, int] | None = None  # days with no attacks at all (a gap in coverage)


@dataclass
class World:
    attacks: list[datetime] = field(default_factory=list)
    events: list[tuple[date, str]] = field(default_factory=list)


def _weekday(day: date, work: float) -> float:
    """Rate multiplier: `work` on Monday to Friday, the rest of the week's mean weight at weekends."""
    return work if day.weekday() < 5 else (7 - 5 * work) / 2


def _intensity(shape: Shape, n: int) -> float:
    lo, hi = shape.trend
    level = lo + (hi - lo) * n / max(1, shape.days - 1)
    first, last = shape.surge
    inside = min(n - first + 1, last - n) / max(1, shape.ramp)  # how far into the surge, in ramps
    return level * (1 + (shape.surge_factor - 1) * min(1.0, max(0.0, inside)))


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: the means here are small
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def world(seed: int, shape: Shape = Shape(), plant: tuple[str, int, float] | None = None) -> World:
    """A world drawn from `seed`. `plant` = (class, lag_days, attacks per event day): that many
    attacks on average `lag_days` after each day holding an event of that class."""
    rng = random.Random(seed)
    made = World()
    for n in range(shape.days):
        day = START + timedelta(days=n)
        if shape.quiet and shape.quiet[0] <= n < shape.quiet[1]:
            continue
        rate = _intensity(shape, n) * _weekday(day, 1.25)
        for _ in range(_poisson(rng, shape.attack_episodes * rate)):
            size = 1 + _poisson(rng, shape.burst_mean)
            for _ in range(size):
                made.attacks.append(_at(day + timedelta(days=rng.choice((0, 0, 1, 2))), rng))
        for event_class in CLASSES:
            erate = _intensity(shape, n) * _weekday(day, 1.35)
            for _ in range(_poisson(rng, shape.event_episodes * erate)):
                for extra in rng.choice(((0,), (0,), (0, 8), (0, 9, 17))):  # a process: rounds a week or more apart
                    made.events.append((day + timedelta(days=extra), event_class))
    if plant is not None:
        planted_class, lag, per_day = plant
        for day in sorted({d for d, c in made.events if c == planted_class}):
            for _ in range(_poisson(rng, per_day)):
                made.attacks.append(_at(day + timedelta(days=lag), rng))
    last = START + timedelta(days=shape.days - 1)
    made.attacks = [a for a in made.attacks if a.date() <= last]
    made.events = sorted({(d, c) for d, c in made.events if d <= last})
    return made


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=rng.randrange(24))


def shuffled_within_periods(
    real: World, periods: list[tuple[date, date]], seed: int
) -> World:  # moves every attack to a random day of its own period: day-level links gone, base rates kept
    rng = random.Random(seed)
    moved = []
    for at in real.attacks:
        first, last = next((p for p in periods if p[0] <= at.date() <= p[1]), (at.date(), at.date()))
        day = first + timedelta(days=rng.randrange((last - first).days + 1))
        moved.append(datetime.combine(day, at.time(), UTC))
    return World(moved, list(real.events))


INCIDENTS = """
INSERT INTO incidents BY NAME
SELECT 'inc_' || lpad(i::VARCHAR, 20, '0') AS incident_id, 'synthetic' AS source, i::VARCHAR AS source_ref,
       'Synthetic attack ' || i AS title, ['ddos'] AS attack_types,
       t AS started_at, t + INTERVAL 1 HOUR AS started_latest, 'hour' AS time_precision,
       'reported' AS evidence, md5(i::VARCHAR) AS content_hash, 'run' AS run_id, 'file' AS file_id,
       now() AS first_loaded_at, now() AS loaded_at
FROM (SELECT unnest(range(len($at))) AS i, unnest($at) AS t)
"""

EVENTS = """
INSERT INTO diplomatic_events BY NAME
SELECT 'evt_' || lpad(i::VARCHAR, 20, '0') AS event_id, 'synthetic' AS source, i::VARCHAR AS source_ref,
       CAST(day AS TIMESTAMPTZ) AS occurred_at, CAST(day + 1 AS TIMESTAMPTZ) AS occurred_latest,
       'day' AS time_precision, 'Synthetic ' || event_class || ' ' || i AS title, event_class,
       ['USA', 'RUS'] AS actor_countries, md5('e' || i::VARCHAR) AS content_hash, 'run' AS run_id,
       'file' AS file_id, now() AS first_loaded_at, now() AS loaded_at
FROM (SELECT unnest(range(len($day))) AS i, unnest($day) AS day, unnest($class) AS event_class)
"""


def write(made: World, db: Path) -> Path:
    """The world as a cyberlog store at `db`: one incident per attack (each its own cluster)."""
    with open_store(db, write=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(INCIDENTS, {"at": made.attacks})
        con.execute(EVENTS, {"day": [d for d, _ in made.events], "class": [c for _, c in made.events]})
    return db
