"""MISP benchmark: memory and time of `cyberlog ingest` on a big MISP export, against json.load.

    python benchmarks/bench_misp.py [--rows N] [--attributes K] [--repeat R] [--workdir DIR]

Writes N MISP events (default 12,500: about 100 MiB), each the bundled DDoS fixture's event with its own uuid and K more
attributes (indicators of the kind real feeds carry), twice: as an array of events and as a
restSearch result (`{"response": [...]}`). For each it measures, best of R (default 3), in
subprocesses with peak RSS from os.wait4: Python's json.load of the file (what a naive
reader needs) and `cyberlog ingest`. No timing assertions: exits non-zero only when a
command fails or the counts do not add up.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from bench_ingest import main_for
from bench_stix import against_json_load

TEMPLATE = Path(__file__).resolve().parent.parent / "fixtures" / "misp" / "good" / "ddos-mod-banks.json"


def write(path: Path, events: int, attributes: int, search: bool) -> None:
    """Stream the export to disk, one event at a time."""
    event = json.loads(TEMPLATE.read_text("utf-8"))["Event"]
    extra = [
        {
            "uuid": str(uuid.UUID(int=k)),
            "type": "ip-dst",
            "category": "Network activity",
            "value": f"198.51.100.{k % 250}",
            "to_ids": True,
            "timestamp": "1644973200",
            "comment": "Seen in the DDoS wave. " * 4,
        }
        for k in range(attributes)
    ]
    with path.open("w", encoding="utf-8") as out:
        out.write('{"response": [' if search else "[")
        for n in range(events):
            one = {**event, "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"event{n}")), "id": str(n)}
            one["Attribute"] = event["Attribute"] + extra
            out.write(("," if n else "") + json.dumps({"Event": one}))
        out.write("]}" if search else "]")


def run(work: Path, events: int, _seed: int, attributes: int, repeat: int) -> None:
    for search in (False, True):
        data = work / ("search.json" if search else "events.json")
        write(data, events, attributes, search)
        print(f"{data.name}: {events:,} events   file: {data.stat().st_size / 2**20:.1f} MiB")
        against_json_load(work, data, events, repeat, "  ")
        data.unlink()
    print(f"Best of {repeat} each; peak RSS includes the interpreter and DuckDB (about 100 MiB at rest).")


def main() -> None:
    main_for(__doc__ or "", 12_500, "bench_misp_", run, {"attributes": 20, "repeat": 3})


if __name__ == "__main__":
    main()
