"""Cross-source identity: one attack from several feeds is one cluster, every record kept."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import FIXTURES, rows, run, scalar

from ingest.canon.identity import org_words

HEADER = "ref,title,attack_types,started_at,time_precision,target_org,target_domain,target_country\n"
MISP_DDOS = FIXTURES / "misp" / "good" / "ddos-mod-banks.json"


def _ddos_cluster(db) -> tuple[str, list[str]]:
    """The cluster of the curated 15 Feb DDoS record, and its sources."""
    (found,) = rows(
        db,
        """SELECT c.cluster_id, c.sources FROM v_clusters c JOIN v_incidents i USING (cluster_id)
           WHERE i.source_ref = '2022-02-15-ddos-mod-banks'""",
    )
    return str(found[0]), list(found[1])


def _csv(tmp_path, name: str, *lines: str):
    path = tmp_path / name
    path.write_text(HEADER + "".join(line + "\n" for line in lines), "utf-8")
    return path


def _id(db, source: str, ref: str) -> str:
    return str(
        scalar(db, "SELECT incident_id FROM incidents WHERE source = $s AND source_ref = $r", {"s": source, "r": ref})
    )


def test_the_15_feb_ddos_from_three_formats_is_one_cluster(fixture_store):
    cluster, sources = _ddos_cluster(fixture_store)
    assert {"cert-stix", "curated-incidents", "misp"} <= set(sources)
    assert scalar(fixture_store, "SELECT count(*) FROM incidents") > scalar(
        fixture_store, "SELECT count(*) FROM v_clusters"
    )
    # every source's record is kept as it came: three start times, three precisions
    assert rows(
        fixture_store,
        "SELECT source, strftime(started_at, '%H:%M'), time_precision FROM v_incidents "
        "WHERE cluster_id = $c AND source IN ('cert-stix', 'curated-incidents', 'misp') ORDER BY source",
        {"c": cluster},
    ) == [("cert-stix", "13:00", "hour"), ("curated-incidents", "13:00", "hour"), ("misp", "14:00", "hour")]
    # the cluster's start: where most records agree, the IDS's first alert inside STIX's and the
    # curated list's hour (MISP's 14:00 hour and CFR's report day left out), to the second it logged
    assert rows(
        fixture_store,
        "SELECT strftime(c.started_at, '%H:%M:%S'), c.time_precision, t.time_records, c.records "
        "FROM v_clusters c JOIN v_cluster_times t USING (cluster_id) WHERE cluster_id = $c",
        {"c": cluster},
    ) == [("13:58:00", "second", 4, 8)]
    evidence = json.loads(
        str(
            scalar(
                fixture_store,
                "SELECT l.evidence FROM v_incident_links l JOIN incidents a ON a.incident_id = l.incident_a "
                "JOIN incidents b ON b.incident_id = l.incident_b "
                "WHERE a.source = 'misp' AND b.source = 'curated-incidents' AND a.source_ref LIKE 'a3f1%'",
            )
        )
    )
    assert evidence["attack_types"] == ["ddos"]
    assert {
        "a": "Ministry of Defence of Ukraine",
        "b": "Ministry of Defence of Ukraine",
        "domain": "mil.gov.ua",
        "similarity": 1.0,
        "contained": True,
    } in evidence["targets"]
    disagreements = dict(
        rows(fixture_store, "SELECT aspect, says FROM v_cluster_disagreements WHERE cluster_id = $c", {"c": cluster})
    )
    assert "cert-stix: 2022-02-15T13:00Z (hour)" in disagreements["started"]
    assert "cert-stix: GRU" in disagreements["actors"]


def test_undo_survives_the_next_nightly_and_an_updated_event(loaded, tmp_path):
    misp = _id(loaded, "misp", "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607")
    result = run("clusters", "undo", misp, "--note", "a different wave", "--db", loaded)
    assert result.code == 0, result.err
    assert "misp" not in _ddos_cluster(loaded)[1]
    assert run("nightly", "--config", FIXTURES / "cyberlog.toml", "--db", loaded).code == 0
    # the feed sends a newer version of the same event: re-matched, but the undo holds
    event = json.loads(MISP_DDOS.read_text("utf-8"))
    event["Event"]["timestamp"] = "1645100000"
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(event), "utf-8")
    assert json.loads(run("ingest", newer, "--source", "misp", "--db", loaded, "--json").out)["updated"] == 1
    assert "misp" not in _ddos_cluster(loaded)[1]
    assert rows(loaded, "SELECT DISTINCT note FROM incident_links WHERE decision = 'undone'") == [("a different wave",)]


def test_merge_by_hand_joins_what_the_rule_missed(db, tmp_path):
    a = _csv(tmp_path, "a.csv", "x1,Outage at the ministry,ddos,2022-03-01,,Ministry of Energy,,UKR")
    b = _csv(tmp_path, "b.csv", "y1,Power company website down,ddos,2022-03-01,,Ukrenergo,,UKR")
    assert run("ingest", a, "--source", "a", "--db", db).code == 0
    assert run("ingest", b, "--source", "b", "--db", db).code == 0
    assert scalar(db, "SELECT count(*) FROM v_clusters") == 2
    result = run("clusters", "merge", _id(db, "a", "x1"), _id(db, "b", "y1"), "--db", db)
    assert result.code == 0, result.err
    assert rows(db, "SELECT records, sources FROM v_clusters") == [(2, ["a", "b"])]


@pytest.mark.parametrize(
    ("line_a", "line_b", "matched"),
    [
        # the same victim named two ways, a day apart (a tracker dating the report)
        (
            "r,DDoS on MoD,ddos,2022-02-15T13:00Z,hour,Ministry of Defence of Ukraine,,UKR",
            "r,Ukrainian defense ministry hit,ddos,2022-02-16,,Ukrainian Ministry of Defense,,",
            True,
        ),
        # a tracker's one cell naming several victims holds the other's every word
        (
            "r,DDoS,ddos,2022-02-15,,Ministry of Defence of Ukraine,,UKR",
            'r,DDoS,ddos,2022-02-16,,"Ukrainian Ministry of Defense, Armed Forces of Ukraine, PrivatBank",,',
            True,
        ),
        # sharing only a generic word is not a shared target
        ("r,a,ddos,2022-02-15,,Ministry of Education,,UKR", "r,b,ddos,2022-02-15,,Ministry of Defence,,UKR", False),
        # ... nor is one word in common
        ("r,DDoS,ddos,2022-02-15,,Ministry,,UKR", "r,DDoS,ddos,2022-02-15,,Ministry of Defense,,UKR", False),
        # the same domain is enough
        ("r,a,ddos,2022-02-15,,,mil.gov.ua,UKR", "r,b,other,2022-02-15,,Some name,www.mil.gov.ua,UKR", True),
        # too far apart in time
        ("r,a,ddos,2022-02-15,,PrivatBank,,UKR", "r,b,ddos,2022-02-20,,PrivatBank,,UKR", False),
        # incompatible attack types
        ("r,a,ddos,2022-02-15,,PrivatBank,,UKR", "r,b,wiper,2022-02-15,,PrivatBank,,UKR", False),
        # same words, conflicting countries
        ("r,a,ddos,2022-02-15,,Ministry of Defence,,UKR", "r,b,ddos,2022-02-15,,Ministry of Defence,,GBR", False),
        # a country in common is not a shared target
        ("r,a,ddos,2022-02-15,,,,UKR", "r,b,ddos,2022-02-15,,,,UKR", False),
        # known only to a year: never matched by the rule
        ("r,a,ddos,2022,,PrivatBank,,UKR", "r,b,ddos,2022-02-15,,PrivatBank,,UKR", False),
        # a name's country word yields to the country the source states: the checkpoint is Ukraine's
        (
            "r,a,defacement,2022-02-15,,Border control checkpoint (Romania border),,UKR",
            "r,b,defacement,2022-02-15,,border control checkpoint,,UKR",
            True,
        ),
        # "central" is no country (it was the Central African Republic's first word)
        (
            "r,a,ddos,2022-02-15,,Central Election Commission,,UKR",
            "r,b,ddos,2022-02-15,,Central Election Commission of Ukraine,,",
            True,
        ),
        # ... while a name's country still keeps two ministries apart when nothing is stated
        (
            "r,a,ddos,2022-02-15,,Ministry of Defence of Ukraine,,",
            "r,b,ddos,2022-02-15,,Russian Ministry of Defence,,",
            False,
        ),
    ],
)
def test_the_matching_rule(db, tmp_path, line_a, line_b, matched):
    assert run("ingest", _csv(tmp_path, "a.csv", line_a), "--source", "a", "--db", db).code == 0
    assert run("ingest", _csv(tmp_path, "b.csv", line_b), "--source", "b", "--db", db).code == 0
    assert scalar(db, "SELECT count(*) FROM v_clusters") == (1 if matched else 2)


NAMED = "ref,title,attack_types,started_at,time_precision,target_org,target_country,url\n"


@pytest.mark.parametrize(
    ("line_a", "line_b", "matched"),
    [
        # the malware family both titles name, in the same country on the same day: WhisperGate
        (
            "r,WhisperGate destructive malware,wiper,2022-01-13,,Ukrainian organisations,UKR,",
            "r,Wiper posing as ransomware (WHISPERGATE),wiper,2022-01-13,,,UKR,",
            True,
        ),
        # a synonym the malware galaxies give: DriveSlayer is HermeticWiper
        (
            "r,HermeticWiper on Ukrainian machines,wiper,2022-02-23T14:52Z,minute,,UKR,",
            "r,DriveSlayer wiper found,other,2022-02-23,,,UKR,",
            True,
        ),
        # the same report URL, tracking parameters aside
        (
            "r,Destructive malware,wiper,2022-01-13,,,UKR,https://example.org/blog/2022/01/15/wiper/",
            "r,Malware attack,wiper,2022-01-13,,,UKR,http://www.example.org/blog/2022/01/15/wiper?utm_source=x",
            True,
        ),
        # trap: one malware, the same bank, a month apart
        (
            "r,CaddyWiper at a bank,wiper,2022-03-14,,Oschadbank,UKR,",
            "r,CaddyWiper at a bank,wiper,2022-04-12,,Oschadbank,UKR,",
            False,
        ),
        # trap: one article on two DDoS waves of one day, against different countries
        (
            "r,DDoS wave,ddos,2023-01-10,,,CZE,https://news.example/noname-waves",
            "r,DDoS wave,ddos,2023-01-10,,,POL,https://news.example/noname-waves",
            False,
        ),
        # trap: a shared report on two different wipers
        (
            "r,HermeticWiper,wiper,2022-02-23,,,UKR,https://eset.example/wipers",
            "r,IsaacWiper,wiper,2022-02-24,,,UKR,https://eset.example/wipers",
            False,
        ),
        # trap: one report on DDoS against two banks the same day: two attacks
        (
            "r,DDoS on PrivatBank,ddos,2022-02-15,,PrivatBank,UKR,https://cert.example/report-37139",
            "r,DDoS on Oschadbank,ddos,2022-02-15,,Oschadbank,UKR,https://cert.example/report-37139",
            False,
        ),
        # ... while a target described only in general words does not stand in the way
        (
            "r,Defacement,defacement,2022-01-14,,Ukrainian government websites,UKR,https://ssu.example/news/1",
            "r,Defacement,defacement,2022-01-14,,Cabinet of Ministers,UKR,https://ssu.example/news/1",
            True,
        ),
        # trap: a site's front page is no report
        ("r,a,wiper,2022-01-13,,,UKR,https://example.org/", "r,b,wiper,2022-01-13,,,UKR,https://example.org", False),
        # trap: malware names that are everyday words ("Prestige", "Interception") are no key
        (
            "r,Prestige hotel hacked,intrusion,2022-10-11,,,POL,",
            "r,Prestige brand leaked,intrusion,2022-10-11,,,POL,",
            False,
        ),
        # trap: different attack types, same malware name
        ("r,WhisperGate,wiper,2022-01-13,,,UKR,", "r,WhisperGate phishing lure,phishing,2022-01-13,,,UKR,", False),
    ],
)
def test_an_attack_known_by_its_name(db, tmp_path, line_a, line_b, matched):
    for source, line in (("a", line_a), ("b", line_b)):
        path = tmp_path / f"{source}.csv"
        path.write_text(NAMED + line + "\n", "utf-8")
        result = run("ingest", path, "--source", source, "--db", db)
        assert result.code == 0, result.err
    assert scalar(db, "SELECT count(*) FROM v_clusters") == (1 if matched else 2)


def test_a_url_many_incidents_give_is_a_landing_page(db, tmp_path):
    lines = [f"r{i},attack {i},ddos,2022-02-15,,,UKR,https://tracker.example/list" for i in range(11)]
    (tmp_path / "a.csv").write_text(NAMED + "\n".join(lines) + "\n", "utf-8")
    (tmp_path / "b.csv").write_text(NAMED + "x,attack,ddos,2022-02-15,,,UKR,https://tracker.example/list\n", "utf-8")
    assert run("ingest", tmp_path / "a.csv", "--source", "a", "--db", db).code == 0
    assert run("ingest", tmp_path / "b.csv", "--source", "b", "--db", db).code == 0
    assert scalar(db, "SELECT count(*) FROM incident_links") == 0


def test_the_fixtures_wipers_are_one_cluster_each(fixture_store):
    found = rows(
        fixture_store,
        """SELECT c.records, list_sort(c.sources) FROM v_clusters c
           WHERE c.cluster_id IN (SELECT cluster_id FROM v_incidents WHERE title LIKE $t)""",
        {"t": "%WhisperGate%"},
    )
    assert found == [(5, ["cfr", "curated-incidents", "eurepoc", "misp", "vcdb"])]
    (hermetic,) = rows(
        fixture_store,
        "SELECT records FROM v_clusters WHERE cluster_id IN "
        "(SELECT cluster_id FROM v_incidents WHERE title LIKE '%HermeticWiper%')",
    )
    assert hermetic == (4,)


def test_records_of_one_source_are_never_matched(db, tmp_path):
    path = _csv(tmp_path, "a.csv", "r1,a,ddos,2022-02-15,,PrivatBank,,UKR", "r2,b,ddos,2022-02-15,,PrivatBank,,UKR")
    assert run("ingest", path, "--db", db).code == 0
    assert scalar(db, "SELECT count(*) FROM v_clusters") == 2


def test_a_match_that_no_longer_holds_after_an_update_goes_stale(db, tmp_path):
    assert (
        run("ingest", _csv(tmp_path, "a.csv", "r,a,ddos,2022-02-15,,PrivatBank,,UKR"), "--source", "a", "--db", db).code
        == 0
    )
    assert (
        run("ingest", _csv(tmp_path, "b.csv", "r,b,ddos,2022-02-15,,PrivatBank,,UKR"), "--source", "b", "--db", db).code
        == 0
    )
    assert scalar(db, "SELECT count(*) FROM v_clusters") == 1
    moved = _csv(tmp_path, "b2.csv", "r,b,ddos,2022-03-30,,PrivatBank,,UKR")
    result = json.loads(run("ingest", moved, "--source", "b", "--db", db, "--json").out)
    assert result["identity"] == {"matched": 0, "stale": 1, "clusters": 0}
    assert scalar(db, "SELECT count(*) FROM v_clusters") == 2
    assert rows(db, "SELECT decision FROM incident_links ORDER BY seq") == [("matched",), ("stale",)]


def test_clusters_commands_explain_bad_ids(loaded):
    assert run("clusters", "show", "clu_nope", "--db", loaded).err == (
        "cyberlog: error: no cluster or record 'clu_nope': see `cyberlog clusters list`\n"
    )
    assert run("clusters", "undo", "inc_nope", "--db", loaded).code == 2
    shown = run("clusters", "show", _ddos_cluster(loaded)[0], "--db", loaded)
    assert shown.code == 0 and "decisions of clu_" in shown.out and "started" in shown.out
    # each record's time as what it is: the STIX hour as an hour with the fidelity it stated
    assert "2022-02-15T13h" in shown.out and "stated fidelity: hour" in shown.out
    assert "T00:00:00" not in shown.out


@pytest.mark.parametrize(
    ("name", "country", "words"),
    [
        ("Ministry of Defence of Ukraine", "UKR", ("UKR", "defen", "minis")),
        ("Ukrainian Ministry of Defense", None, ("UKR", "defen", "minis")),
        ("JSC CB PrivatBank", "UKR", ("UKR", "cb", "priva")),
        ("Armed Forces of Ukraine", "UKR", ("UKR", "armed", "force")),
        ("Mínistry  of  Défence!", None, ("defen", "minis")),
        ("Bank & Trust", None, ("bank", "trust")),
    ],
)
def test_org_words(name, country, words):
    assert org_words(name, country) == words


@pytest.mark.parametrize(
    "name",
    [
        "Central Election Commission",
        "central/regional government sites",
        "National Bank",
        "Central Bank",
        "Republic Hospital",
        "United Energy",
        "Border Guard Service",
        "Georgia Department of Revenue",
        "Niger Delta Power",
        "Nigerian Ports",
        "American University",
        "Jordan Grand Prix",
        "Turkey farm",
        "North Eastern Railway",
        "South Ossetia",
        "New Zealand Post",
        "Guinea Pig Club",
    ],
)
def test_no_country_from_a_generic_or_ambiguous_word(name):
    """Traps: a word of a name that is an everyday word, a first name or shared by two
    countries is never taken for a country (New Zealand's name is two words: no stem)."""
    assert [w for w in org_words(name) if w.isupper()] == []


@pytest.mark.parametrize(
    ("name", "country"),
    [("Ukrainian Railways", "UKR"), ("Bank of Romania", "ROU"), ("Polish Post", None), ("Russian Railways", "RUS")],
)
def test_a_country_name_in_a_name_is_a_word_of_it(name, country):
    assert [w for w in org_words(name) if w.isupper()] == ([country] if country else [])


def test_the_lean_attack_views_agree_with_v_clusters(fixture_store):
    """Reports read v_attacks / v_attack_targets for speed; they must say what v_clusters says."""
    lean = rows(
        fixture_store,
        """SELECT cluster_id, records, lead_incident_id, started_at, started_latest, time_precision,
                  attack_types, title, url FROM v_attacks ORDER BY cluster_id""",
    )
    full = rows(
        fixture_store,
        """SELECT cluster_id, records, lead_incident_id, started_at, started_latest, time_precision,
                  attack_types, title, url FROM v_clusters ORDER BY cluster_id""",
    )
    assert lean == full and any(r[1] > 1 for r in lean)
    targets = rows(
        fixture_store,
        """SELECT cluster_id, list_sort(list_distinct(list(country))), list_sort(list_distinct(list(sector)))
           FROM v_attack_targets GROUP BY cluster_id ORDER BY cluster_id""",
    )
    listed = rows(
        fixture_store,
        """SELECT cluster_id, target_countries, target_sectors FROM v_clusters
           WHERE len(target_countries) + len(target_sectors) > 0 ORDER BY cluster_id""",
    )
    assert targets == listed


def test_a_run_that_dies_before_matching_is_matched_by_the_next(db, tmp_path, monkeypatch):
    """Files commit one by one and matching comes last: a run that dies in between leaves
    loaded incidents unmatched, and the next run, with nothing new to load, matches them."""
    from ingest.derive import clusters

    a = _csv(tmp_path, "a.csv", "x1,DDoS on the ministry site,ddos,2022-02-15,,Ministry of Defence,mil.gov.ua,UKR")
    b = _csv(tmp_path, "b.csv", "y1,MoD website down,ddos,2022-02-15,,Ministry of Defence of Ukraine,mil.gov.ua,UKR")
    assert run("ingest", a, "--source", "a", "--db", db).code == 0

    def dies(*args: object, **kwargs: object) -> None:
        raise MemoryError("the machine ran out of memory while matching")

    monkeypatch.setattr(clusters, "match", dies)
    with pytest.raises(MemoryError):
        run("ingest", b, "--source", "b", "--db", db)
    monkeypatch.undo()
    assert scalar(db, "SELECT count(*) FROM incidents") == 2
    assert scalar(db, "SELECT count(*) FROM v_clusters") == 2  # loaded, not yet matched
    assert rows(db, "SELECT exit_code, identity_done_at IS NULL FROM ingest_runs ORDER BY started_at") == [
        (0, False),
        (1, True),
    ]
    again = run("ingest", b, "--source", "b", "--db", db, "--json")
    assert again.code == 0 and json.loads(again.out)["files"][0]["status"] == "skipped"
    assert rows(db, "SELECT records, sources FROM v_clusters") == [(2, ["a", "b"])]
    assert scalar(db, "SELECT count(*) FROM ingest_runs WHERE identity_done_at IS NULL") == 0


def test_clusters_list_shows_each_start_as_what_it_is(fixture_store):
    result = run("clusters", "list", "--format", "csv", "--db", fixture_store)
    assert result.code == 0, result.err
    listed = {row["cluster_id"]: row for row in csv.DictReader(io.StringIO(result.out))}
    starts = {row["started"]: row["time_records"] for row in listed.values()}
    # the 15 Feb DDoS to the second its records agree on (4 of 8); a month as a month, a day as a day
    assert starts["2022-02-15T13:58:00Z"] == "4"
    assert {"2022-02", "2022-01-13", "2022-02-23T14h", "2022-02-23T14:52Z"} <= set(starts)
    assert not [s for s in starts if s.endswith("T00:00:00Z")]  # no day passes for a midnight


def test_clusters_suggest_lists_near_misses_with_the_failing_criterion(db, tmp_path):
    a = "r,DDoS on PrivatBank,ddos,2022-02-15,,PrivatBank,UKR,\nq,Wiper at Oschadbank,wiper,2022-02-15,,Oschadbank,UKR,"
    b = "r,PrivatBank outage,ddos,2022-02-19,,PrivatBank,UKR,\nq,Oschadbank,ddos,2022-02-15,,Oschadbank,UKR,"
    for source, body in (("a", a), ("b", b)):
        (tmp_path / f"{source}.csv").write_text(NAMED + body + "\n", "utf-8")
        assert run("ingest", tmp_path / f"{source}.csv", "--source", source, "--db", db).code == 0
    result = run("clusters", "suggest", "--db", db, "--format", "json")
    assert result.code == 0, result.err
    fails = sorted(row["fails"] for row in json.loads(result.out))
    assert fails == ["attack types: ddos vs wiper", "time: 72.0 h apart, the rule allows 48 h"]
    assert "2 near misses" in result.err
    # beyond the days searched, no suggestion; a pair undone by hand is not suggested again
    assert json.loads(run("clusters", "suggest", "--days", "0", "--db", db, "--format", "json").out)[0]["fails"] == (
        "attack types: ddos vs wiper"
    )
    first, second = json.loads(result.out)
    assert run("clusters", "undo", first["incident_a"], first["incident_b"], "--db", db).code == 0
    assert run("clusters", "merge", second["incident_a"], second["incident_b"], "--db", db).code == 0
    assert json.loads(run("clusters", "suggest", "--db", db, "--format", "json").out) == []


def test_clusters_list_says_how_many_records_stand_alone(fixture_store):
    result = run("clusters", "list", "--db", fixture_store)
    assert result.code == 0, result.err
    single = scalar(fixture_store, "SELECT count(*) FROM v_clusters WHERE records = 1")
    several = scalar(fixture_store, "SELECT count(*) FROM v_clusters WHERE records > 1")
    assert f"{several} clusters of several records; {single} incidents only one source reported" in result.err
    assert "--all lists them" in result.err
    every = run("clusters", "list", "--all", "--db", fixture_store, "--format", "json")
    assert len(json.loads(every.out)) == several + single
