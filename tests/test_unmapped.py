"""Attack-type and sector words no vocabulary maps: kept on the record as the source wrote
them, listed by v_unmapped_terms and counted per source by `cyberlog status`."""

from __future__ import annotations

import json

import duckdb
import pytest
from conftest import FIXTURES, rows, run

from ingest.canon import vocab
from ingest.formats.eurepoc import EurepocIncident
from ingest.formats.eurepoc import convert as eurepoc_record
from ingest.formats.veris import VerisIncident
from ingest.formats.veris import convert as veris_record

CREATED = "2022-02-15T16:00:00.000Z"


def _stix(id_: str, kind: str, **extra: object) -> dict[str, object]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{id_}",
        "created": CREATED,
        "modified": CREATED,
        **extra,
    }


def _uses(source: str, target: str, n: int, kind: str = "uses") -> dict[str, object]:
    return _stix(
        f"5a1e0000-0000-4000-8000-00000000010{n}",
        "relationship",
        relationship_type=kind,
        source_ref=source,
        target_ref=target,
    )


def _bundle(tmp_path, objects: list[dict[str, object]]):
    path = tmp_path / "bundle.json"
    path.write_text(
        json.dumps({"type": "bundle", "id": "bundle--0f0e0d0c-0b0a-4909-8807-060504030201", "objects": objects})
    )
    return path


def _status(db) -> dict[str, dict[str, object]]:
    result = run("status", "--db", db, "--json")
    assert result.code == 0, result.err
    return {s["source"]: s for s in json.loads(result.out)["sources"]}


def test_a_stix_word_no_vocabulary_maps_is_kept_listed_and_counted(db, tmp_path):
    incident = _stix(
        "5a1e0000-0000-4000-8000-000000000001",
        "incident",
        name="Miners on the MoD's servers",
        first_seen="2022-02-15T00:00:00Z",
        labels=["cryptojacking", "denial-of-service", " ", "Cryptojacking"],
    )
    wiper = _stix(
        "5a1e0000-0000-4000-8000-000000000002", "malware", name="HermeticWiper", is_family=True, malware_types=["wiper"]
    )  # its name maps through its type: not unmapped
    victim = _stix(
        "5a1e0000-0000-4000-8000-000000000003",
        "identity",
        name="Ministry of Defence of Ukraine",
        identity_class="organization",
        sectors=["defense", "technology"],
    )
    path = _bundle(
        tmp_path,
        [
            incident,
            wiper,
            victim,
            _uses(incident["id"], wiper["id"], 4),
            _uses(incident["id"], victim["id"], 5, "targets"),
        ],
    )
    assert run("ingest", path, "--source", "cert", "--db", db).code == 0
    assert rows(db, "SELECT attack_types, unmapped_attack_types FROM incidents") == [
        (["ddos", "wiper"], ["cryptojacking"])  # once, as first written; the blank label is no word
    ]
    assert rows(db, "SELECT sectors, unmapped_sectors FROM incident_targets") == [(["military"], ["technology"])]
    assert rows(db, "SELECT * FROM v_unmapped_terms") == [
        ("attack_type", "cryptojacking", "cert", 1),
        ("sector", "technology", "cert", 1),
    ]
    assert _status(db)["cert"]["unmapped"] == 1  # one record, two words


def test_a_misp_word_no_vocabulary_maps_is_kept_and_who_and_where_are_no_attack_words(db, tmp_path):
    tags = [
        'circl:incident-classification="cryptojacking"',
        'misp-galaxy:mitre-attack-pattern="Disk Wipe - T1561"',
        'misp-galaxy:threat-actor="Sandworm"',
        'misp-galaxy:country="ukraine"',
        'workflow:state="complete"',
        'misp-galaxy:sector="Technology"',
        'misp-galaxy:sector="Finance"',
        "tlp:clear",
    ]
    event = {
        "uuid": "5a1e0000-0000-4000-8000-000000000011",
        "info": "Miners and a wiper",
        "date": "2022-02-15",
        "Tag": [{"name": t} for t in tags],
        "Galaxy": [
            {"type": "tool", "GalaxyCluster": [{"value": "XMRig"}]},
            {"type": "ransomware", "GalaxyCluster": [{"value": "Prestige"}]},
        ],
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"Event": event}))
    assert run("ingest", path, "--source", "misp", "--db", db).code == 0
    assert rows(db, "SELECT attack_types, unmapped_attack_types FROM incidents") == [
        (["wiper", "ransomware"], ["cryptojacking", "XMRig"])  # Prestige is ransomware by its galaxy
    ]
    assert rows(db, "SELECT sectors, unmapped_sectors FROM incident_targets") == [(["finance"], ["Technology"])]
    assert [(v, t, r) for v, t, _, r in rows(db, "SELECT * FROM v_unmapped_terms")] == [
        ("attack_type", "XMRig", 1),
        ("attack_type", "cryptojacking", 1),
        ("sector", "Technology", 1),
    ]
    assert _status(db)["misp"]["unmapped"] == 1


def test_mapped_words_are_not_listed(db, tmp_path):
    incident = _stix(
        "5a1e0000-0000-4000-8000-000000000021",
        "incident",
        name="DDoS on the MoD",
        first_seen="2022-02-15T00:00:00Z",
        labels=["denial-of-service"],
    )
    victim = _stix(
        "5a1e0000-0000-4000-8000-000000000022",
        "identity",
        name="Ministry of Defence of Ukraine",
        identity_class="organization",
        sectors=["defense"],
    )
    path = _bundle(tmp_path, [incident, victim, _uses(incident["id"], victim["id"], 3, "targets")])
    assert run("ingest", path, "--source", "cert", "--db", db).code == 0
    assert rows(db, "SELECT unmapped_attack_types FROM incidents") == [([],)]
    assert rows(db, "SELECT unmapped_sectors FROM incident_targets") == [([],)]
    assert rows(db, "SELECT count(*) FROM v_unmapped_terms") == [(0,)]
    assert _status(db)["cert"]["unmapped"] == 0


def test_the_fixtures_unmapped_words_most_frequent_first(fixture_store):
    assert rows(fixture_store, "SELECT vocabulary, left(term, 23), source, records FROM v_unmapped_terms") == [
        ("attack_type", "Disruption", "eurepoc", 3),
        ("sector", "Corporate Targets (corp", "eurepoc", 2),
        ("sector", "Critical infrastructure", "eurepoc", 2),
        ("attack_type", "Attempted Information L", "ids", 1),  # an alert's category that maps to nothing
        ("attack_type", "Injection", "waf", 1),
        ("attack_type", "Potential Corporate Pri", "ids", 1),
        ("attack_type", "Reconnaissance", "waf", 1),
        ("attack_type", "T1110 Brute Force", "siem", 1),
        ("sector", "technology", "cert-stix", 1),
    ]
    counted = {source: s["unmapped"] for source, s in _status(fixture_store).items() if s["unmapped"]}
    assert counted == {"cert-stix": 1, "eurepoc": 3, "ids": 2, "siem": 1, "waf": 2}


@pytest.mark.parametrize(
    ("terms", "mapped", "unmapped"),
    [
        (["DDoS", "Cryptojacking", "cryptojacking", "", "  "], ("ddos",), ("Cryptojacking",)),
        ([" Cryptojacking "], ("other",), ("Cryptojacking",)),  # as written, less the spaces around it
        (["Other", "unknown"], ("other",), ()),  # the source's own Other says it already
        ([], ("other",), ()),
        ([("Foo Technique", "foo", "T1498")], ("ddos",), ()),  # one thing's names: any of them maps it
        ([("Foo Technique", "T9999")], ("other",), ("Foo Technique",)),  # by its first name
        ([("", "XMRig", "tool")], ("other",), ("XMRig",)),
        ([("remote-access-trojan", "PIVY Variant (08709f35)")], ("other",), ("remote-access-trojan",)),
    ],
)
def test_attack_types_and_the_words_left_unmapped(terms, mapped, unmapped):
    assert vocab.attack_types(terms) == (mapped, unmapped)


@pytest.mark.parametrize(
    ("terms", "mapped", "unmapped"),
    [
        (["Finance", "Technology", "Government"], ("finance", "government"), ("Technology",)),
        (["Technology"], ("other",), ("Technology",)),
        (["Other"], ("other",), ()),
        ([], (), ()),
        ([""], (), ()),  # a blank is no word: no sector either
    ],
)
def test_sectors_and_the_words_left_unmapped(terms, mapped, unmapped):
    assert vocab.sectors(terms) == (mapped, unmapped)


def test_veris_keeps_malware_and_social_varieties_and_naics_codes_it_cannot_map():
    record = {
        "incident_id": "x",
        "security_incident": "Confirmed",
        "timeline": {"incident": {"year": 2022}},
        "victim": {"country": ["UA"], "industry": "541512"},  # computer systems design: no row
        "action": {
            "hacking": {"variety": ["Brute force"]},  # hacking: an intrusion by its category
            "malware": {"variety": ["Ransomware", "Cryptominer", "Other"]},
            "social": {"variety": ["Bribery", "Unknown"]},
        },
        "attribute": {"integrity": {"variety": ["Software installation"]}},
    }
    incident = veris_record(VerisIncident.model_validate(record))
    assert incident.attack_types == ("intrusion", "ransomware")
    assert incident.unmapped_attack_types == ("Cryptominer", "Bribery")
    assert [(t.sector, t.unmapped_sectors) for t in incident.targets] == [("other", ("541512",))]


def test_eurepoc_keeps_its_types_that_map_to_none_of_ours_but_not_its_blanks():
    row = {
        "ID": "1",
        "name": "x",
        "start_date": "2022-02-15",
        "incident_type": "Disruption; Not available; Ransomware",
        "receiver_country": "['Ukraine']",
        "receiver_category": "[['Critical infrastructure']]",
    }
    incident = eurepoc_record(EurepocIncident.model_validate(row))
    assert (incident.attack_types, incident.unmapped_attack_types) == (("other", "ransomware"), ("Disruption",))
    assert [(t.sector, t.unmapped_sectors) for t in incident.targets] == [("other", ("Critical infrastructure",))]


def test_a_store_from_before_unmapped_words_were_kept(fixture_store, tmp_path):
    db = tmp_path / "old.duckdb"
    db.write_bytes(fixture_store.read_bytes())
    with duckdb.connect(str(db)) as con:
        con.execute("DROP VIEW v_unmapped_terms")
        con.execute("DROP VIEW v_unmapped")
        con.execute("ALTER TABLE incidents DROP COLUMN unmapped_attack_types")
        con.execute("ALTER TABLE incident_targets DROP COLUMN unmapped_sectors")
        con.execute("UPDATE schema_version SET version = 1")  # made by schema 1
    assert all(s["unmapped"] == 0 for s in _status(db).values())  # read-only: none known yet
    same = FIXTURES / "cfr_tracker" / "good" / "cfr-2022.csv"  # loaded before: skipped, but the write upgrades
    assert run("ingest", same, "--source", "cfr", "--db", db).code == 0
    assert rows(db, "SELECT count(*) FROM incidents WHERE unmapped_attack_types IS NOT NULL") == [(0,)]
    assert _status(db)["waf"]["unmapped"] == 2  # alerts kept their words all along
