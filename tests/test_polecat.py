"""POLECAT weekly and monthly event files and yearly zips of months: PLOVER classes,
COERCE:cyber as an incident, compound actors, release stamps as versions, and the header
quirks of real files."""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES, rows, run, scalar

from ingest import formats
from ingest.formats import polecat, polecat_files
from ingest.inputs import archives

GOOD = FIXTURES / "polecat" / "good" / "ngecEvents.20220221093000.Release642.DV.txt"
HEADER, *LINES = GOOD.read_text("utf-8").splitlines()
NAMES = HEADER.split("\t")
OLDER = polecat_files.OLDER
AGAIN = polecat_files.AGAIN


def _line(event_id: str, **cells: str) -> list[str]:
    """The good fixture's (first) row for the Event ID, with some cells changed."""
    found = next(line.split("\t") for line in LINES if line.startswith(event_id + "\t"))
    return [cells.get(name.replace(" ", "_"), cell) for name, cell in zip(NAMES, found, strict=True)]


def _file(tmp_path: Path, *lines: list[str], header: list[str] = NAMES, name: str = "polecat.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join("\t".join(cells) for cells in (header, *lines)) + "\n", "utf-8")
    return path


def _ingest(path: Path, db: Path) -> dict:
    result = run("ingest", path, "--format", "polecat", "--db", db, "--json")
    assert "Traceback" not in result.err
    return json.loads(result.out)["files"][0]


def test_the_weekly_fixture_loads_24_events_2_incidents_and_skips_an_older_version(db):
    result = run("ingest", GOOD, "--format", "polecat", "--db", db, "--json")
    assert result.code == 0, result.err
    file = json.loads(result.out)["files"][0]
    assert (file["records_read"], file["inserted"], file["rejected"], file["skipped"]) == (27, 26, 0, {OLDER: 1})
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 24
    assert scalar(db, "SELECT count(*) FROM incidents") == 2
    # the release stamp in the file's name is every record's version
    stamps = "SELECT DISTINCT strftime(source_modified, '%Y-%m-%dT%H:%M:%SZ') FROM {}"
    assert (
        rows(db, stamps.format("diplomatic_events"))
        == rows(db, stamps.format("incidents"))
        == [("2022-02-21T09:30:00Z",)]
    )


def test_events_keep_class_countries_day_scores_and_place(db):
    assert _ingest(GOOD, db)["status"] == "loaded"
    assert rows(
        db,
        """SELECT source_ref, strftime(occurred_at, '%Y-%m-%d'), time_precision, event_class, cameo_code,
                  actor_countries, actor1, actor1_country, actor2, actor2_country, quad_class, goldstein,
                  location, location_country, location_precision, latitude, strftime(recorded_at, '%Y-%m-%dT%H:%MZ')
           FROM diplomatic_events WHERE source_ref IN ('polecat:PC22021501', 'polecat:PC22021502', 'polecat:PC22021503')
           ORDER BY source_ref""",
    ) == [
        (
            "polecat:PC22021501",
            "2022-02-15",
            "day",
            "visit",
            None,
            ["DEU", "RUS"],
            "Olaf Scholz",
            "DEU",
            "Vladimir Putin",
            "RUS",
            1,
            4.0,
            "Moscow, Moscow, RUS",
            "RUS",
            "PPLC",
            55.75222,
            "2022-02-15T00:00Z",
        ),
        (
            "polecat:PC22021502",
            "2022-02-15",
            "day",
            "military",
            None,
            ["RUS"],
            "Russian Armed Forces",
            "RUS",
            None,
            None,
            2,
            8.0,
            "Moscow, Moscow, RUS",
            "RUS",
            "PPLC",
            55.75222,
            "2022-02-15T00:00Z",
        ),
        (
            "polecat:PC22021503",
            "2022-02-15",
            "day",
            "statement",  # the Duma's request to recognise DNR/LNR: PLOVER has no recognition code
            None,
            ["RUS"],
            "State Duma",
            "RUS",
            "Vladimir Putin",
            "RUS",
            3,
            -1.5,
            "Moscow, Moscow, RUS",
            "RUS",
            "PPLC",
            55.75222,
            "2022-02-15T00:00Z",
        ),
    ]
    assert scalar(db, "SELECT count(*) FROM diplomatic_events WHERE event_class = 'recognition'") == 0


def test_cyber_contexts_make_an_attribution_only_of_an_allegation(db):
    _ingest(GOOD, db)
    assert rows(
        db,
        """SELECT source_ref, event_class, description FROM diplomatic_events
           WHERE description LIKE '%contexts: %cyber%' ORDER BY source_ref""",
    ) == [
        ("polecat:PC22021402", "other", "PLOVER COERCE:arrest; contexts: cyber;crime; published 2022-02-14 by TASS"),
        (
            "polecat:PC22021603",
            "statement",
            "PLOVER ACCUSE:investigate; contexts: cyber; published 2022-02-16 by Ukrinform",
        ),
        (
            "polecat:PC22021801",
            "attribution",
            "PLOVER ACCUSE:allege; contexts: cyber;military; published 2022-02-18 by BBC",
        ),
    ]


def test_coerce_cyber_is_an_incident_with_its_recipients_as_targets_and_suspected_actors(db):
    _ingest(GOOD, db)
    assert rows(
        db,
        """SELECT source_ref, title, description, attack_types, strftime(started_at, '%Y-%m-%d'), time_precision,
                  evidence, time_basis, url
           FROM incidents ORDER BY source_ref""",
    ) == [
        (
            "polecat:PC22021504",
            "Russia: COERCE:cyber: Ukrainian Ministry of Defence;PrivatBank;Oschadbank",
            "PLOVER COERCE:cyber; contexts: cyber; published 2022-02-15 by Reuters",
            ["other"],
            "2022-02-15",
            "day",
            "reported",
            None,
            None,
        ),
        (  # COERCE with no mode, in a cyber context; no actor is named
            "polecat:PC22021602",
            "COERCE: Ukrainian government websites",
            "PLOVER COERCE:None; contexts: cyber; published 2022-02-16 by Kyiv Independent",
            ["other"],
            "2022-02-16",
            "day",
            "reported",
            None,
            None,
        ),
    ]
    assert rows(
        db,
        """SELECT i.source_ref, t.organisation, t.country, t.sectors, t.unmapped_sectors
           FROM incident_targets t JOIN incidents i USING (incident_id) ORDER BY i.source_ref, t.organisation""",
    ) == [
        ("polecat:PC22021504", "Oschadbank", "UKR", ["finance"], []),
        ("polecat:PC22021504", "PrivatBank", "UKR", ["finance"], []),
        ("polecat:PC22021504", "Ukrainian Ministry of Defence", "UKR", ["military"], []),
        ("polecat:PC22021602", "Ukrainian government websites", "UKR", ["government"], []),
    ]
    assert rows(
        db,
        """SELECT actor, role, attributed_by, strftime(attributed_at, '%Y-%m-%d'), attributed_dated, country
           FROM incident_actors""",
    ) == [("Russia", "suspected", "Reuters", "2022-02-15", "by", "RUS")]


def test_compound_actors_keep_their_lists_and_drop_none_members(db):
    _ingest(GOOD, db)
    assert rows(
        db,
        """SELECT source_ref, title, actor1, actor1_code, actor1_country, actor_countries FROM diplomatic_events
           WHERE source_ref IN ('polecat:PC22021604', 'polecat:PC22021903', 'polecat:PC22021901')
           ORDER BY source_ref""",
    ) == [
        (
            "polecat:PC22021604",
            "NATO defence ministers;Lloyd Austin: CONSULT:multilateral",
            "NATO defence ministers;Lloyd Austin;None",
            "None;USA;None",
            None,  # not every member is American
            ["USA"],
        ),
        (  # no country is stated: none is read from "Donetsk People's Republic"
            "polecat:PC22021901",
            "Donetsk People's Republic;Denis Pushilin: MOBILIZE:troops",
            "Donetsk People's Republic;Denis Pushilin",
            "None;None",
            None,
            [],
        ),
        (
            "polecat:PC22021903",
            "Kamala Harris;Volodymyr Zelensky: CONSULT",
            "Kamala Harris;Volodymyr Zelensky",
            "USA;UKR",
            None,
            ["UKR", "USA"],
        ),
    ]


def test_an_event_dated_after_its_story_is_kept_and_listed_as_a_disagreement(db):
    _ingest(GOOD, db)
    assert rows(db, "SELECT kind, source_ref, happened, written FROM v_time_disagreements") == [
        ("event", "polecat:PC22021704", "2022-02-18", "2022-02-17T00:00:00Z")
    ]
    assert scalar(db, "SELECT description FROM diplomatic_events WHERE source_ref = 'polecat:PC22021704'") == (
        "PLOVER ASSAULT:None; contexts: military; published 2022-02-17 by UNIAN; "
        "[Event Date after its Publication Date]"
    )


def test_a_cyber_incident_dated_after_its_story_says_so_in_its_time_basis(db, tmp_path):
    late = _line("PC22021504", Event_Date="2022-02-16")
    assert _ingest(_file(tmp_path, late), db)["inserted"] == 1
    assert rows(db, "SELECT kind, source_ref, written, says FROM v_time_disagreements") == [
        (
            "incident",
            "polecat:PC22021504",
            "2022-02-15",
            "written 2022-02-15, before the time it gives: not bounded by it",
        )
    ]


def test_the_newest_version_of_a_repeated_event_id_is_kept(db):
    _ingest(GOOD, db)
    assert rows(db, "SELECT title, line FROM diplomatic_events WHERE source_ref = 'polecat:PC22021703'") == [
        ("Russian Foreign Ministry: THREATEN:relations: United States", 24)
    ]


def test_copies_whose_versions_do_not_order_are_duplicates_the_first_kept(db, tmp_path):
    first, second = _line("PC22021701"), _line("PC22021701", Version="None", Event_Mode="withdraw")
    file = _ingest(_file(tmp_path, first, second), db)
    assert (file["inserted"], file["rejected"], file["skipped"]) == (1, 1, {})
    assert rows(db, "SELECT line, field, reason FROM rejects") == [
        (3, "ref", 'duplicate ref "polecat:PC22021701" in this file: the record on line 2 is kept')
    ]


def test_a_later_release_wins_and_an_earlier_one_never_overwrites_it(db, tmp_path):
    def release(stamp: str, mode: str) -> Path:
        folder = tmp_path / stamp
        folder.mkdir()
        return _file(folder, _line("PC22021703", Event_Mode=mode), name=f"ngecEvents.{stamp}.Release600.DV.txt")

    first, later, earlier = (
        release("20220221093000", "None"),
        release("20220228093000", "relations"),
        release("20220214093000", "violence"),
    )
    counts = [_ingest(path, db) for path in (first, later, earlier)]
    assert [(c["inserted"], c["updated"], c["unchanged"]) for c in counts] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    assert rows(db, "SELECT title, strftime(source_modified, '%Y-%m-%d') FROM diplomatic_events") == [
        ("Russian Foreign Ministry: THREATEN:relations: United States", "2022-02-28")
    ]


def test_a_file_without_a_release_stamp_in_its_name_has_no_version(db, tmp_path):
    _ingest(_file(tmp_path, _line("PC22021501"), name="ngecEventsDV-2022-Feb.txt"), db)
    assert scalar(db, "SELECT source_modified FROM diplomatic_events") is None


@pytest.mark.parametrize("at", [len(NAMES), 7], ids=["last", "after Contexts"])
def test_a_headline_header_name_with_rows_one_field_short(db, tmp_path, at):
    header = [*NAMES[:at], "Headline", *NAMES[at:]]
    headline = _line("PC22021502")
    headline.insert(at, "Russia pulls back some troops")  # a row that does carry one
    file = _ingest(_file(tmp_path, _line("PC22021501"), headline, header=header), db)
    assert (file["inserted"], file["rejected"]) == (2, 0)
    # the classes, scores and publication days show that no column shifted
    assert rows(
        db, "SELECT event_class, goldstein, strftime(recorded_at, '%Y-%m-%d') FROM diplomatic_events ORDER BY line"
    ) == [
        ("visit", 4.0, "2022-02-15"),
        ("military", 8.0, "2022-02-15"),
    ]


def test_event_intensity_is_read_as_intensity(db, tmp_path):
    header = ["Event Intensity" if name == "Intensity" else name for name in NAMES]
    assert _ingest(_file(tmp_path, _line("PC22021501"), header=header), db)["inserted"] == 1
    assert scalar(db, "SELECT goldstein FROM diplomatic_events") == 4.0


def test_surplus_trailing_tabs_are_dropped_only_when_empty(db, tmp_path):
    header = [*NAMES, "", ""]
    padded = [*_line("PC22021501"), "", ""]
    unpadded = _line("PC22021502")  # the header's surplus names are empty: rows may lack them
    filled = [*_line("PC22021503"), "", "stray"]
    file = _ingest(_file(tmp_path, padded, [*unpadded, ""], filled, header=header), db)
    assert (file["inserted"], file["rejected"]) == (2, 1)
    assert rows(db, "SELECT line, field, reason FROM rejects") == [
        (4, None, "42 fields, more than the header's 40, and the surplus ones are not empty")
    ]


def test_quotes_and_apostrophes_are_plain_characters(db):
    _ingest(GOOD, db)
    assert scalar(db, "SELECT count(*) FROM diplomatic_events WHERE actor1 LIKE '%People''s Republic%'") == 1
    assert scalar(db, "SELECT location FROM diplomatic_events WHERE source_ref = 'polecat:PC22022004'") == (
        "Minsk, Minsk City, BLR"
    )


@pytest.mark.parametrize(
    ("cells", "field", "reason"),
    [
        ({"Event_Type": "RECOGNIZE"}, "Event Type", "'RECOGNIZE' is not a PLOVER event type: AGREE, CONSULT, "),
        ({"Quad_Code": "NEUTRAL"}, "Quad Code", "'NEUTRAL' is not a PLOVER quad code: VERBAL COOPERATION, "),
        ({"Intensity": "-12"}, "Intensity", "-12.0 is outside the PLOVER scale, -10 to 10"),
        ({"Event_Date": "15/02/2022"}, "Event Date", "'15/02/2022' is not a date in YYYY-MM-DD form (2022-02-15)"),
        ({"Event_ID": "None"}, "Event ID", "required, but blank"),
        ({"Latitude": "95"}, "Latitude", "Input should be less than or equal to 90"),
    ],
)
def test_bad_cells_are_rejects_that_name_the_column(db, tmp_path, cells, field, reason):
    file = _ingest(_file(tmp_path, _line("PC22021502"), _line("PC22021501", **cells)), db)
    assert (file["inserted"], file["rejected"]) == (1, 1)
    [(line, got_field, got_reason)] = rows(db, "SELECT line, field, reason FROM rejects")
    assert (line, got_field) == (3, field)
    assert got_reason.startswith(reason)


def test_types_and_quads_compare_without_case(db, tmp_path):
    lower = _line("PC22021501", Event_Type="consult", Event_Mode="Visit", Quad_Code="Verbal Cooperation")
    assert _ingest(_file(tmp_path, lower), db)["inserted"] == 1
    assert rows(db, "SELECT event_class, quad_class, title FROM diplomatic_events") == [
        ("visit", 1, "Olaf Scholz: CONSULT:visit: Vladimir Putin")
    ]


@pytest.mark.parametrize(
    ("event_type", "mode", "contexts", "expected"),
    [
        ("CONSULT", "visit", (), "visit"),
        ("CONSULT", "phone", (), "talks"),
        ("CONSULT", None, (), "talks"),
        ("AGREE", None, (), "agreement"),
        ("COOPERATE", None, (), "agreement"),
        ("CONCEDE", None, (), "agreement"),
        ("RETREAT", "withdraw", (), "military"),
        ("RETREAT", "ceasefire", (), "military"),
        ("RETREAT", "release", (), "other"),
        ("RETREAT", None, (), "other"),
        ("SUPPORT", None, (), "statement"),
        ("REQUEST", None, ("territory",), "statement"),
        ("REJECT", None, (), "statement"),
        ("ACCUSE", "disapprove", ("cyber",), "statement"),
        ("ACCUSE", "allege", (), "statement"),
        ("ACCUSE", "allege", ("military", "cyber"), "attribution"),
        ("THREATEN", "territory", (), "threat"),
        ("SANCTION", "expel", (), "sanction"),
        ("SANCTION", None, (), "sanction"),
        ("SANCTION", "convict", (), "other"),
        ("COERCE", "restrict", (), "sanction"),
        ("COERCE", "martial-law", (), "sanction"),
        ("COERCE", "arrest", ("cyber",), "other"),
        ("MOBILIZE", "troops", (), "military"),
        ("ASSAULT", None, (), "military"),
        ("PROTEST", None, (), "other"),
        ("AID", None, (), "other"),
        ("SUPPORT", "unheard-of", (), "statement"),  # a mode the table lacks: the type's class
    ],
)
def test_plover_classes(event_type, mode, contexts, expected):
    assert polecat.event_class(event_type, mode, contexts) == expected


def test_every_plover_type_has_a_class():
    assert {polecat.event_class(t, None, ()) for t in polecat.TYPES} <= {
        "talks", "visit", "statement", "agreement", "sanction", "threat", "attribution", "military", "other"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (
            [name for name in NAMES if name != "Version"],
            "missing required column(s) Version; expected columns: ",
        ),
        ([*NAMES, "Goldstein"], "unknown column(s) Goldstein; expected columns: "),
        ([*NAMES, "Version"], "header names a column twice"),
    ],
)
def test_a_header_without_the_40_columns_fails_the_file(db, tmp_path, header, error):
    result = run("ingest", _file(tmp_path, header=header), "--format", "polecat", "--db", db, "--json")
    file = json.loads(result.out)["files"][0]
    assert (result.code, file["status"]) == (3, "failed")
    assert file["error"].startswith(error)


def test_an_empty_file_fails_with_its_reason(db, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = run("ingest", path, "--format", "polecat", "--db", db, "--json")
    assert json.loads(result.out)["files"][0]["error"] == "file is empty (0 bytes): expected a header row"


def _text(*lines: list[str], header: list[str] = NAMES) -> str:
    return "\n".join("\t".join(cells) for cells in (header, *lines)) + "\n"


def _zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.mark.parametrize(
    ("packed", "stamp"),
    [
        ("ngecEventsDV-2022-Feb.txt.zip", None),  # a monthly file has no release stamp
        ("weekly.zip", "2022-02-21"),  # the member's name gives it
        ("ngecEvents.20220221093000.Release642.DV.txt.gz", "2022-02-21"),  # the name less .gz gives it
    ],
)
def test_a_one_file_zip_or_a_gzip_reads_as_the_file_inside(db, tmp_path, packed, stamp):
    path = tmp_path / packed
    if packed.endswith(".gz"):
        path.write_bytes(gzip.compress(GOOD.read_bytes()))
    else:
        member = GOOD.name if stamp else packed.removesuffix(".zip")
        _zip(path, {member: GOOD.read_bytes()})
    file = _ingest(path, db)
    assert (file["inserted"], file["rejected"], file["skipped"]) == (26, 0, {OLDER: 1})
    assert rows(db, "SELECT DISTINCT strftime(source_modified, '%Y-%m-%d') FROM diplomatic_events") == [(stamp,)]
    assert scalar(db, "SELECT count(*) FROM diplomatic_events WHERE line IS NULL OR pointer IS NOT NULL") == 0


def _year(tmp_path: Path) -> Path:
    """A yearly zip of three months, written out of calendar order (Mar, Jan, Feb: name order
    would read Feb first). PC22021501 is in Jan and again, changed, in Feb with the same
    Version; PC22021703 is in Jan at Version 1.0 and in Mar at 1.1; Feb's line 4 has a bad
    Quad Code."""
    months = {
        "ngecEventsDV-2022-Mar.txt": _text(_line("PC22021703", Version="1.1", Event_Mode="relations")),
        "ngecEventsDV-2022-Jan.txt": _text(
            _line("PC22021301"), _line("PC22021401"), _line("PC22021501"), _line("PC22021703")
        ),
        "ngecEventsDV-2022-Feb.txt": _text(
            _line("PC22021501", Event_Mode="phone"), _line("PC22021502"), _line("PC22021503", Quad_Code="NEUTRAL")
        ),
    }
    return _zip(tmp_path / "ngecEventsDV-2022.txt.zip", months)


def test_a_yearly_zip_is_recognised_by_its_first_month(tmp_path):
    assert formats.detect(_year(tmp_path)).name == "polecat"


def test_a_yearly_zip_of_months_loads_as_one_file(db, tmp_path):
    yearly = _year(tmp_path)
    file = _ingest(yearly, db)
    assert (file["status"], file["records_read"], file["inserted"], file["rejected"]) == ("loaded", 8, 5, 1)
    assert file["skipped"] == {AGAIN: 1, OLDER: 1}  # the repeat across months counted once, not rejected
    # one ledger row, keyed by the archive's own sha256
    assert rows(db, "SELECT status, sha256, records_read FROM ingest_files") == [
        ("loaded", hashlib.sha256(yearly.read_bytes()).hexdigest(), 8)
    ]
    # each record placed by its member and line; the first copy in calendar order kept (Jan's visit,
    # not Feb's phone call); the newest Version kept though it comes last (Mar)
    assert rows(db, "SELECT source_ref, line, pointer, title, source_modified FROM diplomatic_events ORDER BY 1") == [
        (
            "polecat:PC22021301",
            None,
            "ngecEventsDV-2022-Jan.txt:2",
            "Joe Biden: CONSULT:phone: Volodymyr Zelensky",
            None,
        ),
        (
            "polecat:PC22021401",
            None,
            "ngecEventsDV-2022-Jan.txt:3",
            "Olaf Scholz: CONSULT:visit: Volodymyr Zelensky",
            None,
        ),
        ("polecat:PC22021501", None, "ngecEventsDV-2022-Jan.txt:4", "Olaf Scholz: CONSULT:visit: Vladimir Putin", None),
        ("polecat:PC22021502", None, "ngecEventsDV-2022-Feb.txt:3", "Russian Armed Forces: RETREAT:withdraw", None),
        (
            "polecat:PC22021703",
            None,
            "ngecEventsDV-2022-Mar.txt:2",
            "Russian Foreign Ministry: THREATEN:relations: United States",
            None,
        ),
    ]
    listed = run("rejects", "list", "--db", db, "--format", "json")
    [reject] = json.loads(listed.out)
    assert (reject["at"], reject["field"]) == ("ngecEventsDV-2022-Feb.txt:4", "Quad Code")
    assert reject["reason"].startswith("'NEUTRAL' is not a PLOVER quad code")
    assert _ingest(yearly, db)["status"] == "skipped"  # the same archive again


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            ["x-2022-Mar.txt", "x-2022-Jan.txt", "x-2022-Feb.txt"],
            ["x-2022-Jan.txt", "x-2022-Feb.txt", "x-2022-Mar.txt"],
        ),
        (
            ["x-2022-Dec.txt", "x-2021-Dec.txt", "x-2022-May.txt"],
            ["x-2021-Dec.txt", "x-2022-May.txt", "x-2022-Dec.txt"],
        ),
        (["x_2022_11.txt", "x_2022_02.txt"], ["x_2022_02.txt", "x_2022_11.txt"]),
        (
            ["y/x-2022-September.txt", "y/x-2022-sept.txt", "x-2022-aug.txt"],
            ["x-2022-aug.txt", "y/x-2022-September.txt", "y/x-2022-sept.txt"],
        ),
        (
            ["x-2022-Mar.txt", "x-2022-Jan.txt", "notes.txt"],
            ["notes.txt", "x-2022-Jan.txt", "x-2022-Mar.txt"],
        ),  # not all: name order
        (["x-2022-Mar.txt", "x-2022-Feb.txt", "x-2022-13.txt"], ["x-2022-13.txt", "x-2022-Feb.txt", "x-2022-Mar.txt"]),
    ],
)
def test_months_are_read_in_calendar_order_when_every_name_has_one(names, expected):
    members = [(name, Path(name)) for name in names]
    assert [name for name, _ in polecat_files.in_calendar_order(members)] == expected


def test_a_member_that_is_not_a_polecat_file_fails_the_zip_naming_it(db, tmp_path):
    yearly = _zip(
        tmp_path / "ngecEventsDV-2022.txt.zip",
        {"ngecEventsDV-2022-Jan.txt": _text(_line("PC22021301")), "README.txt": "POLECAT 2022, monthly files\n"},
    )
    file = _ingest(yearly, db)
    assert file["status"] == "failed"
    assert file["error"].startswith("zip member 'README.txt': unknown column(s) POLECAT 2022, monthly files; ")
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 0


def test_a_yearly_zip_past_the_bomb_limit_in_total_is_refused(db, tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MIN_LIMIT", 1 << 20)  # the same rule, at a size a test can afford
    blanks = _text(_line("PC22021301")) + " " * (600 << 10)  # each month under 1 MB, the two over it
    yearly = _zip(tmp_path / "ngecEventsDV-2022.txt.zip", {"x-2022-Jan.txt": blanks, "x-2022-Feb.txt": blanks})
    assert archives.limit_for(yearly) == 1 << 20
    file = _ingest(yearly, db)
    assert (file["status"], file["error"]) == ("failed", archives.bomb(1 << 20))
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 0


@pytest.mark.parametrize(
    ("member", "error"),
    [
        (
            "../ngecEventsDV-2022-Feb.txt",
            "zip member '../ngecEventsDV-2022-Feb.txt' is named outside the archive ('..' or an absolute path): "
            "refused, nothing read",
        ),
        ("/tmp/ngecEventsDV-2022-Feb.txt", "zip member '/tmp/ngecEventsDV-2022-Feb.txt' is named outside the archive"),
        ("ngecEventsDV-2022-Feb.txt.gz", "zip member 'ngecEventsDV-2022-Feb.txt.gz' is itself an archive: "),
    ],
)
def test_a_member_named_outside_the_zip_or_packed_again_is_refused(db, tmp_path, member, error):
    content = (
        gzip.compress(_text(_line("PC22021502")).encode()) if member.endswith(".gz") else _text(_line("PC22021502"))
    )
    yearly = _zip(
        tmp_path / "ngecEventsDV-2022.txt.zip",
        {"ngecEventsDV-2022-Jan.txt": _text(_line("PC22021501")), member: content},
    )
    file = _ingest(yearly, db)
    assert file["status"] == "failed"
    assert file["error"].startswith(error)
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 0


def _releases(tmp_path: Path) -> tuple[Path, Path]:
    """PC22021703 in a yearly zip (mode None) and in a weekly release (mode relations)."""
    yearly = _zip(
        tmp_path / "ngecEventsDV-2022.txt.zip",
        {"x-2022-Jan.txt": _text(_line("PC22021301")), "x-2022-Feb.txt": _text(_line("PC22021703", Event_Mode="None"))},
    )
    weekly = _file(
        tmp_path, _line("PC22021703", Event_Mode="relations"), name="ngecEvents.20220228093000.Release600.DV.txt"
    )
    return yearly, weekly


TITLE = (
    "SELECT title, strftime(source_modified, '%Y-%m-%d') FROM diplomatic_events WHERE source_ref = 'polecat:PC22021703'"
)


def test_a_weekly_release_replaces_the_yearly_copy(db, tmp_path):
    yearly, weekly = _releases(tmp_path)
    assert _ingest(yearly, db)["inserted"] == 2
    assert _ingest(weekly, db)["updated"] == 1
    assert rows(db, TITLE) == [("Russian Foreign Ministry: THREATEN:relations: United States", "2022-02-28")]


def test_a_yearly_copy_loaded_after_a_weekly_release_leaves_it(db, tmp_path):
    yearly, weekly = _releases(tmp_path)
    assert _ingest(weekly, db)["inserted"] == 1
    assert _ingest(yearly, db)["unchanged"] == 1
    assert rows(db, TITLE) == [("Russian Foreign Ministry: THREATEN:relations: United States", "2022-02-28")]


def test_reingest_loads_nothing(db):
    assert run("ingest", GOOD, "--format", "polecat", "--db", db).code == 0
    assert _ingest(GOOD, db)["status"] == "skipped"


def test_polecat_sniffs_its_own_header_and_not_icews():
    assert polecat.sniff(GOOD.read_bytes()[:4096])
    assert not polecat.sniff((FIXTURES / "icews" / "good" / "icews-2022-02.tab").read_bytes()[:4096])


def test_polecat_is_recognised_without_format():
    assert formats.detect(GOOD).name == "polecat"


BAD = {  # fixtures/polecat/bad: each one fault beside two good rows (line 4, or the whole file)
    "bad_quad_code.txt": (4, "Quad Code", "'NEUTRAL' is not a PLOVER quad code: "),
    "event_date_not_iso.txt": (4, "Event Date", "'15/02/2022' is not a date in YYYY-MM-DD form (2022-02-15)"),
    "intensity_out_of_range.txt": (4, "Intensity", "-12.0 is outside the PLOVER scale, -10 to 10"),
    "not_a_plover_type.txt": (4, "Event Type", "'RECOGNIZE' is not a PLOVER event type: "),
    "row_one_field_short.txt": (4, None, "expected 40 fields as in the header, found 39"),
    "same_event_id_same_version.txt": (
        4,
        "ref",
        'duplicate ref "polecat:PC22021501" in this file: the record on line 2',
    ),
    "surplus_column_not_empty.txt": (
        4,
        None,
        "42 fields, more than the header's 40, and the surplus ones are not empty",
    ),
    "undecodable_bytes.txt": (4, None, "bytes that are not valid utf-8: pass --encoding"),
}


def test_every_bad_fixture_is_checked():
    found = {path.name for path in (FIXTURES / "polecat" / "bad").iterdir()}
    assert found == {*BAD, "header_missing_version.txt"}


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_fixture_is_one_reject_beside_two_good_rows(db, name):
    file = _ingest(FIXTURES / "polecat" / "bad" / name, db)
    assert (file["status"], file["inserted"], file["rejected"]) == ("loaded", 2, 1)
    [(line, field, reason)] = rows(db, "SELECT line, field, reason FROM rejects")
    expected_line, expected_field, prefix = BAD[name]
    assert (line, field) == (expected_line, expected_field)
    assert reason.startswith(prefix), reason


def test_a_header_without_version_fails_the_whole_file(db):
    file = _ingest(FIXTURES / "polecat" / "bad" / "header_missing_version.txt", db)
    assert file["status"] == "failed"
    assert file["error"].startswith("missing required column(s) Version; expected columns: Actor COW, ")


def test_a_crlf_copy_with_a_bom_reads_the_same(db, tmp_path):
    assert _ingest(GOOD, db)["inserted"] == 26
    copy = tmp_path / GOOD.name
    copy.write_bytes(b"\xef\xbb\xbf" + GOOD.read_bytes().replace(b"\n", b"\r\n"))
    file = _ingest(copy, db)
    assert (file["inserted"], file["updated"], file["unchanged"], file["skipped"]) == (0, 0, 26, {OLDER: 1})
