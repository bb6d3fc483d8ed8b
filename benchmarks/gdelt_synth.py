"""Synthetic GDELT 2.0 event exports: 61 tab-separated columns, no header, real CAMEO codes.

Shared by the GDELT benchmark and the tests that need a big file. Rows follow the real
files' shapes: empty actors, country/role actor codes, FIPS geo codes, place names with
commas, 14-digit DATEADDED stamps, URLs; `bad` rows carry the faults real feeds have.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

ACTORS = [  # code, name, country, role
    ("USAGOV", "UNITED STATES", "USA", "GOV"),
    ("RUSGOV", "RUSSIA", "RUS", "GOV"),
    ("UKRGOV", "UKRAINE", "UKR", "GOV"),
    ("UKRMIL", "UKRAINIAN", "UKR", "MIL"),
    ("RUSMIL", "RUSSIAN", "RUS", "MIL"),
    ("DEUGOV", "GERMANY", "DEU", "GOV"),
    ("FRAGOV", "FRANCE", "FRA", "GOV"),
    ("GBRGOV", "UNITED KINGDOM", "GBR", "GOV"),
    ("CHNGOV", "CHINA", "CHN", "GOV"),
    ("POLGOV", "POLAND", "POL", "GOV"),
    ("BLRGOV", "BELARUS", "BLR", "GOV"),
    ("IGOEEC", "EUROPEAN UNION", "", "IGO"),
    ("IGONAT", "NATO", "", "IGO"),
    ("USA", "WASHINGTON", "USA", ""),
    ("RUS", "MOSCOW", "RUS", ""),
    ("", "", "", ""),
    ("", "", "", ""),
    ("COP", "POLICE", "", "COP"),
    ("BUS", "COMPANY", "", "BUS"),
]
PLACES = [  # type, full name, FIPS country, ADM1, lat, long, feature id
    ("4", "Kyiv, Kyyiv, Misto, Ukraine", "UP", "UP12", "50.4333", "30.5167", "-1044367"),
    ("4", "Moscow, Moskva, Russia", "RS", "RS48", "55.7522", "37.6156", "-2960561"),
    ("1", "Ukraine", "UP", "UP", "49", "32", "UP"),
    ("1", "Russia", "RS", "RS", "60", "100", "RS"),
    ("3", "Washington, District of Columbia, United States", "US", "USDC", "38.8951", "-77.0364", "531871"),
    ("4", "Berlin, Berlin, Germany", "GM", "GM16", "52.5167", "13.4", "-1746443"),
    ("4", "Brussels, Bruxelles-Capitale, Belgium", "BE", "BE11", "50.8333", "4.3333", "-1955538"),
    ("1", "Poland", "PL", "PL", "52", "20", "PL"),
    ("0", "", "", "", "", "", ""),
]


def cameo_codes() -> list[tuple[str, str, str]]:
    """(code, quad class, Goldstein) of every shipped CAMEO code."""
    text = resources.files("ingest").joinpath("data/cameo_codes.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [(r["code"], r["quad_class"], r["goldstein"]) for r in rows if len(r["code"]) >= 3]


def actor(rng: random.Random) -> list[str]:
    code, name, country, role = rng.choice(ACTORS)
    return [code, name, country, "", "", "", "", role, "", ""]


def place(rng: random.Random) -> list[str]:
    kind, name, fips, adm1, lat, lon, feature = rng.choice(PLACES)
    return [kind, name, fips, adm1, "", lat, lon, feature]


def row(rng: random.Random, event_id: int, day: datetime, codes: list[tuple[str, str, str]]) -> list[str]:
    code, quad, goldstein = rng.choice(codes)
    added = day + timedelta(minutes=15 * rng.randrange(96))
    sqldate = (added - timedelta(days=rng.choice([0, 0, 0, 0, 1, 2, 30]))).strftime("%Y%m%d")
    year, month, dom = int(sqldate[:4]), int(sqldate[4:6]), int(sqldate[6:])
    mentions = rng.choice([1, 2, 2, 4, 6, 10, 20, 60])
    return [
        str(event_id),
        sqldate,
        sqldate[:6],
        sqldate[:4],
        f"{year + ((month - 1) * 30 + dom) / 365:.4f}",
        *actor(rng),
        *actor(rng),
        rng.choice(["0", "1"]),
        code,
        code[:3],
        code[:2],
        quad,
        goldstein,
        str(mentions),
        str(max(1, mentions // 4)),
        str(mentions),
        f"{rng.uniform(-10, 6):.6f}",
        *place(rng),
        *place(rng),
        *place(rng),
        added.strftime("%Y%m%d%H%M%S"),
        f"https://news.example.org/{added:%Y/%m/%d}/story-{event_id}.html",
    ]


BAD = ("short", "date", "long", "code")  # what a bad row gets wrong


def spoil(fields: list[str], fault: str) -> list[str]:
    if fault == "short":
        return fields[:60]  # a column lost
    if fault == "date":
        return [*fields[:1], "2022-02-15", *fields[2:]]  # not YYYYMMDD
    if fault == "long":
        return [*fields, "extra"]
    return [*fields[:26], "0A4", *fields[27:]]  # not a CAMEO code


def write(path: Path, rows: int, seed: int = 7, bad_share: float = 0.001, first_id: int = 1_029_000_000) -> int:
    """Write a synthetic export of `rows` lines; return how many are deliberately bad."""
    rng, codes, bad = random.Random(seed), cameo_codes(), 0
    start = datetime(2022, 2, 1)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for i in range(rows):
            fields = row(rng, first_id + i, start + timedelta(days=i * 28 // max(rows, 1)), codes)
            if rng.random() < bad_share:
                fields = spoil(fields, BAD[bad % len(BAD)])
                bad += 1
            out.write("\t".join(fields) + "\n")
    return bad
