"""STIX 2.1: one incident per incident object, with the graph around it folded in."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from conftest import FIXTURES, REALWORLD, rows, run, scalar

from ingest.errors import FileUnreadable
from ingest.formats import stix_bundle
from ingest.inputs import graph

BUNDLE = FIXTURES / "stix" / "good" / "cert-ukraine-2022-02.json"
DDOS = "incident--7b3e9c10-2d4f-4a6b-8c1d-9e0f1a2b3c4d"


def _bundle(objects: list[dict[str, object]]) -> str:
    return json.dumps({"type": "bundle", "id": "bundle--0f0e0d0c-0b0a-4909-8807-060504030201", "objects": objects})


def _incident(modified: str, name: str, **extra: object) -> dict[str, object]:
    return {
        "type": "incident",
        "spec_version": "2.1",
        "id": DDOS,
        "created": "2022-02-15T16:00:00.000Z",
        "modified": modified,
        "name": name,
        **extra,
    }


def test_the_15_feb_ddos_comes_with_its_graph(db):
    result = run("ingest", BUNDLE, "--db", db)
    assert result.code == 0, result.err
    (ddos,) = rows(
        db,
        """SELECT title, attack_types, strftime(started_at, '%Y-%m-%dT%H:%MZ'), time_precision, time_basis,
                  evidence, severity, target_orgs, target_countries, target_sectors, url
           FROM v_incidents WHERE source_ref = $ref""",
        {"ref": DDOS},
    )
    assert ddos == (
        "DDoS against Ukrainian MoD, Armed Forces, PrivatBank and Oschadbank",  # the newest version
        ["ddos"],
        "2022-02-15T13:00Z",
        "hour",
        "event start_time (stated fidelity: hour)",
        "confirmed",
        "high",
        ["Ministry of Defence of Ukraine", "Armed Forces of Ukraine", "PrivatBank", "Oschadbank"],
        ["UKR"],
        ["finance", "government", "military"],
        "https://cert.gov.ua/article/37139",
    )
    assert rows(
        db,
        "SELECT actor, role, attributed_by, strftime(attributed_at, '%Y-%m-%d'), country, actor_type "
        "FROM incident_actors JOIN incidents USING (incident_id) WHERE source_ref = $ref",
        {"ref": DDOS},
    ) == [("GRU", "attributed", "United Kingdom (FCDO/NCSC)", "2022-02-18", "RUS", "nation-state")]
    assert rows(db, "SELECT attack_types FROM incidents WHERE title LIKE 'HermeticWiper%'") == [(["wiper"],)]


def test_unused_objects_are_counted_by_type_not_rejected(db):
    summary = json.loads(run("ingest", BUNDLE, "--db", db, "--json").out)
    skipped = summary["files"][0]["skipped"]
    assert skipped["STIX marking-definition (not used)"] == 1
    assert skipped["STIX incident (older version; the newest modified is kept)"] == 1
    assert skipped["STIX indicator (not linked to an incident)"] == 1
    assert summary["rejected"] == 0
    stored = json.loads(str(scalar(db, "SELECT skip_reasons FROM ingest_files")))
    assert stored == skipped


def test_a_newer_version_updates_in_place_and_an_older_one_does_not(db, tmp_path):
    for name, modified, title in [
        ("v2.json", "2022-02-17T00:00:00.000Z", "Version two"),
        ("v1.json", "2022-02-16T00:00:00.000Z", "Version one, sent late"),
        ("v3.json", "2022-02-18T00:00:00.000Z", "Version three"),
    ]:
        path = tmp_path / name
        path.write_text(_bundle([_incident(modified, title)]), "utf-8")
        assert run("ingest", path, "--db", db).code == 0
    assert rows(db, "SELECT title, strftime(source_modified, '%d') FROM incidents") == [("Version three", "18")]
    assert rows(db, "SELECT inserted, updated, unchanged FROM ingest_files ORDER BY started_at") == [
        (1, 0, 0),
        (0, 0, 1),
        (0, 1, 0),
    ]


def test_a_taxii_envelope_is_recognised(db, tmp_path):
    path = tmp_path / "envelope.json"
    path.write_text(json.dumps({"more": False, "objects": [_incident("2022-02-16T00:00:00.000Z", "x")]}), "utf-8")
    assert json.loads(run("ingest", path, "--db", db, "--json").out)["files"][0]["format"] == "stix"


def test_a_false_positive_is_skipped_with_its_reason(db, tmp_path):
    core = {"extension-definition--ef765651-680c-498d-9894-99799f2fa126": {"determination": "false-positive"}}
    path = tmp_path / "fp.json"
    path.write_text(_bundle([_incident("2022-02-16T00:00:00.000Z", "Alarm", extensions=core)]), "utf-8")
    summary = json.loads(run("ingest", path, "--db", db, "--json").out)
    assert summary["files"][0]["skipped"] == {"STIX incident determined false-positive": 1}
    assert scalar(db, "SELECT count(*) FROM incidents") == 0


def test_an_incident_with_no_time_of_its_own_is_dated_by_its_report(db, tmp_path):
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b",
        "created": "2022-02-20T00:00:00.000Z",
        "modified": "2022-02-20T00:00:00.000Z",
        "name": "r",
        "published": "2022-02-19T08:00:00Z",
        "object_refs": [DDOS],
    }
    path = tmp_path / "r.json"
    path.write_text(_bundle([_incident("2022-02-20T00:00:00.000Z", "x"), report]), "utf-8")
    assert run("ingest", path, "--db", db).code == 0
    assert rows(db, "SELECT strftime(started_at, '%Y-%m-%d'), time_precision, time_basis FROM incidents") == [
        # the incident object itself was created on the 15th: dated by its report, it says so
        (
            "2022-02-19",
            "day",
            "report published; written 2022-02-15T16:00:00Z, before the time it gives: not bounded by it",
        )
    ]


def test_every_sector_of_a_target_is_kept(db, tmp_path):
    """A bank that is also a state body: one identity, three STIX sectors, all of them found."""
    bank = {
        "type": "identity",
        "spec_version": "2.1",
        "id": "identity--5a1e0000-0000-4000-8000-000000000001",
        "created": "2022-02-15T16:00:00.000Z",
        "modified": "2022-02-15T16:00:00.000Z",
        "name": "Oschadbank",
        "identity_class": "organization",
        "sectors": ["financial-services", "government-national", "defense"],
    }
    hits = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": "relationship--5a1e0000-0000-4000-8000-000000000002",
        "created": "2022-02-15T16:00:00.000Z",
        "modified": "2022-02-15T16:00:00.000Z",
        "relationship_type": "targets",
        "source_ref": DDOS,
        "target_ref": bank["id"],
    }
    path = tmp_path / "b.json"
    path.write_text(
        _bundle([_incident("2022-02-15T16:00:00.000Z", "DDoS", first_seen="2022-02-15T00:00:00Z"), bank, hits])
    )
    assert run("ingest", path, "--db", db).code == 0
    assert rows(db, "SELECT sector, sectors FROM incident_targets") == [
        ("finance", ["finance", "government", "military"])
    ]
    assert rows(db, "SELECT target_sectors FROM v_incidents") == [(["finance", "government", "military"],)]
    for sector in ("finance", "government", "military"):
        found = run("report", "run", "targets_by_period", "-p", f"sector={sector}", "--format", "json", "--db", db)
        assert [r["sector"] for r in json.loads(found.out)] == [sector], found.err


def test_a_store_from_before_sectors_were_kept_reads_its_one_sector(loaded):
    import duckdb

    con = duckdb.connect(str(loaded))
    con.execute("DROP VIEW v_attack_targets")  # as a store made before the column existed
    con.execute("DROP VIEW v_timeline")
    con.execute("DROP VIEW v_clusters")
    con.execute("DROP VIEW v_incidents")
    con.execute("ALTER TABLE incident_targets DROP COLUMN sectors")
    con.execute("UPDATE schema_version SET version = 1")  # made by schema 1
    con.close()
    assert run("status", "--db", loaded).code == 0
    assert run("ingest", BUNDLE, "--db", loaded).code == 0  # a write opens and upgrades it
    # each target on one row, with the one sector such a store kept
    assert rows(loaded, "SELECT count(*) FROM incident_targets WHERE sectors IS NOT NULL") == [(0,)]
    assert rows(loaded, "SELECT incident_id, organisation, country, sector FROM v_attack_targets ORDER BY ALL") == rows(
        loaded, "SELECT incident_id, organisation, country, sector FROM incident_targets ORDER BY ALL"
    )


def test_attack_types_from_the_incident_core_vocabulary_and_linked_attack_patterns(db, tmp_path):
    """compromised-system is an intrusion; a related-to attack pattern counts by its name
    (through the ATT&CK galaxy), an alias or its ATT&CK id."""
    common = {"spec_version": "2.1", "created": "2022-02-15T16:00:00.000Z", "modified": "2022-02-15T16:00:00.000Z"}
    core = {
        "extension-definition--ef765651-680c-498d-9894-99799f2fa126": {
            "extension_type": "property-extension",
            "incident_types": ["compromised-system"],
        }
    }
    deface = {
        "type": "attack-pattern",
        "id": "attack-pattern--0b0a0000-0000-4000-8000-000000000001",
        "name": "Defacement",
        **common,
    }
    exploit = {
        "type": "attack-pattern",
        "id": "attack-pattern--0b0a0000-0000-4000-8000-000000000002",
        "name": "Web server break-in",
        **common,
        "external_references": [{"source_name": "mitre-attack", "external_id": "T1190"}],
    }

    def link(n, kind, target):
        return {
            "type": "relationship",
            "id": f"relationship--0b0a0000-0000-4000-8000-00000000001{n}",
            "relationship_type": kind,
            "source_ref": DDOS,
            "target_ref": target["id"],
            **common,
        }

    incident = _incident(
        "2022-02-15T16:00:00.000Z", "Defaced portal", first_seen="2022-02-14T00:00:00Z", extensions=core
    )
    path = tmp_path / "d.json"
    path.write_text(_bundle([incident, deface, exploit, link(1, "related-to", deface), link(2, "uses", exploit)]))
    assert run("ingest", path, "--db", db).code == 0
    assert rows(db, "SELECT list_sort(attack_types) FROM incidents") == [(["defacement", "intrusion"],)]


# a big bundle's graph on disk ----------------------------------------------------------

STIX_ID = re.compile(r"\b([a-z][a-z0-9-]*)--([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")


def _copies(path: Path, copies: int) -> Path:
    """The fixture's graph `copies` times over, each copy with its own ids and two more
    reports naming its incidents (the first names them later in its refs than the second),
    and versions: every third copy's objects given again with a later `modified` (and a new
    name), every fifth's again with an earlier one, so the newest must be chosen across the
    bundle."""
    dumped = json.dumps(json.loads(BUNDLE.read_text("utf-8"))["objects"])
    out: list[dict[str, object]] = []
    for k in range(copies):
        renamed = STIX_ID.sub(lambda m, k=k: f"{m[1]}--{uuid.uuid5(uuid.NAMESPACE_URL, f'{k}{m[2]}')}", dumped)
        copy = json.loads(renamed)
        incidents = [o["id"] for o in copy if o["type"] == "incident"]
        out += [*copy[:1], _report(k, "a", [copy[0]["id"], *incidents]), *copy[1:], _report(k, "b", incidents)]
        for step, when in ((3, "2023-01-01T00:00:00.000Z"), (5, "2020-01-01T00:00:00.000Z")):
            if k % step == 0:
                out += [
                    {**o, "modified": when, "name": f"{o.get('name')} ({when[:4]})"} for o in copy if "modified" in o
                ]
    path.write_text(_bundle(out), "utf-8")
    return path


def _report(k: int, which: str, refs: list[str]) -> dict[str, object]:
    ident = f"report--{uuid.uuid5(uuid.NAMESPACE_URL, f'{k}{which}')}"
    return {
        **_incident("2022-02-17T09:00:00.000Z", f"Report {which} of copy {k}", published="2022-02-17T09:00:00.000Z"),
        "type": "report",
        "id": ident,
        "report_types": ["threat-report"],
        "object_refs": refs,
        "external_references": [{"source_name": "cert", "url": f"https://cert.example/{k}/{which}"}],
    }


def _read(path: Path) -> list[object]:
    try:
        return list(stix_bundle.read_bundle(path, "utf-8", None))
    except FileUnreadable as exc:
        return [str(exc)]


def test_a_bundle_read_through_disk_gives_what_it_gives_from_memory(tmp_path, monkeypatch):
    """The graph moves to disk past _IN_MEMORY bytes: from the start, or halfway through
    (versions of an id on both sides), a bundle reads exactly as it does in memory."""
    big = _copies(tmp_path / "copies.json", 40)
    files = [big, *sorted((FIXTURES / "stix").glob("*/*.json")), *sorted((REALWORLD / "stix").glob("*.json"))]
    in_memory = {path: _read(path) for path in files}
    assert any(r.skip and "older version" in r.skip for r in in_memory[big])  # type: ignore[attr-defined]
    assert sum(1 for r in in_memory[big] if r.fields) >= 40  # type: ignore[attr-defined]
    monkeypatch.setattr(graph, "_BATCH", 7)  # written to disk in many batches, as a big bundle is
    for threshold in (0, big.stat().st_size // 2):
        monkeypatch.setattr(graph, "_IN_MEMORY", threshold)
        for path in files:
            assert _read(path) == in_memory[path], f"{path.name}, to disk past {threshold} bytes"


def test_a_full_disk_under_the_graph_fails_the_bundle_saying_where(db, tmp_path, monkeypatch):
    # SQLite told to stop at 20 pages stands for a full $TMPDIR: the file fails with the
    # reason, nothing of it stored, and the run goes on (a smaller file may still fit)
    monkeypatch.setattr(graph, "_IN_MEMORY", 0)
    monkeypatch.setattr(graph, "_DISK", graph._DISK.replace("BEGIN;", "PRAGMA max_page_count = 20;\nBEGIN;"))
    big = _copies(tmp_path / "copies.json", 10)
    result = run("ingest", big, BUNDLE, "--db", db)
    assert result.code == 3, result.err
    assert "no space left in $TMPDIR" in result.err and "point TMPDIR at a disk with room" in result.err
    assert rows(db, "SELECT status FROM ingest_files ORDER BY path = $big DESC", {"big": str(big)}) == [
        ("failed",),
        ("loaded",),
    ]
