"""STIX benchmark: memory and time of `cyberlog ingest` on a big bundle, against json.load.

    python benchmarks/bench_stix.py [--incidents N] [--indicators-per-incident K] [--repeat R] [--workdir DIR]

Writes a synthetic STIX 2.1 bundle the shape of a real feed (each incident with its victim
identities, a location, an attributed threat actor, relationships and a report; plus many
indicators, malware and marking objects cyberlog does not use), then measures, best of 3,
in subprocesses with peak RSS from os.wait4: Python's json.load of the file (what a naive
reader needs) and `cyberlog ingest` (best of R, default 3). No timing assertions: exits non-zero only when a
command fails or the counts do not add up.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import uuid
from pathlib import Path

from bench_ingest import child, fail, fresh, stored

CREATED = "2022-02-16T09:00:00.000Z"


def sid(kind: str, n: int, salt: str = "") -> str:
    return f"{kind}--{uuid.uuid5(uuid.NAMESPACE_URL, f'{kind}{salt}{n}')}"


def common(kind: str, ident: str) -> dict[str, object]:
    return {"type": kind, "spec_version": "2.1", "id": ident, "created": CREATED, "modified": CREATED}


def incident_objects(n: int, indicators: int) -> list[dict[str, object]]:
    inc, victim, actor = sid("incident", n), sid("identity", n), sid("threat-actor", n % 50)
    day = 1 + n % 28
    objects = [
        {
            **common("incident", inc),
            "name": f"DDoS against victim {n}",
            "description": "Synthetic. " * 20,
            "extensions": {
                "extension-definition--ef765651-680c-498d-9894-99799f2fa126": {
                    "extension_type": "property-extension",
                    "determination": "confirmed",
                    "investigation_status": "closed",
                    "incident_types": ["denial-of-service"],
                }
            },
        },
        {
            **common("identity", victim),
            "name": f"Victim organisation {n}",
            "identity_class": "organization",
            "sectors": ["financial-services"],
        },
        {
            **common("relationship", sid("relationship", n, "t")),
            "relationship_type": "targets",
            "source_ref": inc,
            "target_ref": victim,
            "start_time": f"2022-02-{day:02}T13:00:00Z",
        },
        {
            **common("relationship", sid("relationship", n, "a")),
            "relationship_type": "attributed-to",
            "source_ref": inc,
            "target_ref": actor,
        },
        {
            **common("relationship", sid("relationship", n, "l")),
            "relationship_type": "located-at",
            "source_ref": victim,
            "target_ref": sid("location", 0),
        },
        {
            **common("report", sid("report", n)),
            "name": f"Report {n}",
            "published": CREATED,
            "report_types": ["threat-report"],
            "object_refs": [inc, victim],
            "external_references": [{"source_name": "cert", "url": f"https://cert.example/{n}"}],
        },
    ]
    for k in range(indicators):
        objects.append(
            {
                **common("indicator", sid("indicator", n, str(k))),
                "pattern_type": "stix",
                "valid_from": CREATED,
                "pattern": f"[file:hashes.'SHA-256' = '{uuid.uuid4().hex * 2}']",
                "description": "Sample seen in the wave. " * 8,
            }
        )
    return objects


def write_bundle(path: Path, incidents: int, indicators: int) -> int:
    """Stream the bundle to disk; returns how many objects it holds."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type": "bundle", "id": "bundle--6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b", "objects": [\n')
        actors = [{**common("threat-actor", sid("threat-actor", a)), "name": f"Actor {a}"} for a in range(50)]
        shared = [{**common("location", sid("location", 0)), "name": "Ukraine", "country": "UA"}, *actors]
        for n in range(incidents):
            for obj in (shared if n == 0 else []) + incident_objects(n, indicators):
                out.write(("" if count == 0 else ",\n") + json.dumps(obj))
                count += 1
        out.write("\n]}\n")
    return count


def against_json_load(work: Path, data: Path, incidents: int, repeat: int, indent: str = "") -> None:
    """Best of `repeat` of json.load of `data` and of `cyberlog ingest` of it into a fresh
    store (which must then hold `incidents` incidents), printed with their peak RSS."""
    log, size = work / "cyberlog.log", data.stat().st_size / 2**20
    loader = work / "json_load.py"
    loader.write_text(f"import json\njson.load(open({str(data)!r}, encoding='utf-8'))\n", "utf-8")
    naive = min(child([str(loader)], log, 0, module=False) for _ in range(repeat))
    runs = []
    for i in range(repeat):
        store = fresh(work / f"store-{i}.duckdb")
        runs.append(child(["ingest", str(data), "--db", str(store)], log, 0))
        if stored(store, "SELECT count(*) FROM incidents") != (incidents,):
            fail(f"the store does not hold the {incidents:,} incidents of {data.name}", log)
    best, peak = min(runs), max(r[2] for r in runs)
    ratio = naive[2] / size
    print(f"{indent}json.load (baseline):   {naive[0]:6.2f} s   peak RSS {naive[2]:,.0f} MiB ({ratio:.1f}x the file)")
    print(
        f"{indent}cyberlog ingest:        {best[0]:6.2f} s   peak RSS {peak:,.0f} MiB ({peak / size:.1f}x the file)   "
        f"ratio {best[0] / naive[0]:.1f}x json.load's time   {incidents / best[0]:,.0f} incidents/s "
        f"({size / best[0]:.1f} MiB/s)"
    )


def run(work: Path, incidents: int, indicators: int, repeat: int = 3) -> None:
    bundle = work / "bundle.json"
    objects = write_bundle(bundle, incidents, indicators)
    print(f"bundle: {objects:,} objects, {incidents:,} incidents   file: {bundle.stat().st_size / 2**20:.1f} MiB")
    against_json_load(work, bundle, incidents, repeat)
    print(f"Best of {repeat} each; peak RSS includes the interpreter and DuckDB (about 100 MiB at rest).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--indicators-per-incident", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the best kept [default: 3]")
    parser.add_argument("--workdir", type=Path, help="keep the files here [default: temp dir]")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_stix_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(work.resolve(), args.incidents, args.indicators_per_incident, args.repeat)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
