"""Runs as the library makes them (ingest.run.orchestrate), without the CLI: what is said
file by file, the ledger row, the exit decision, the jobs of ingest, nightly and replay."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from stores import CFR, CURATED, FIXTURES, UNKNOWN_SECTOR, bad_sectors, load

from ingest.errors import ExitCode, UsageError
from ingest.load.ledger import FileResult, Ledger
from ingest.load.rejects import RejectedFile
from ingest.run import orchestrate
from ingest.run.config import load_config, write_template
from ingest.run.jobs import Job, RunResult


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("result", "line"),
    [
        (FileResult(Path("a.csv"), "skipped", "cfr"), "skipped a.csv: already loaded (cfr)"),
        (FileResult(Path("gdelt"), "failed", error="HTTP 503", url="https://x/l"), "failed https://x/l: HTTP 503"),
        (FileResult(Path("b.csv"), "failed", error="not UTF-8"), "failed b.csv: not UTF-8"),
        (
            FileResult(
                Path("c.csv"),
                "loaded",
                "s",
                "gdelt",
                counts={"records_read": 9, "inserted": 4, "rejected": 1},
                skipped={"filtered out": 3, "a duplicate": 1},
            ),
            "loaded c.csv (gdelt -> s): 9 read, 4 inserted, 0 updated, 0 unchanged, 1 rejected, "
            "4 skipped (3 filtered out; 1 a duplicate)",
        ),
    ],
)
def test_each_file_is_described_in_one_line(result: FileResult, line: str) -> None:
    assert orchestrate.describe(result) == line


def test_a_run_says_each_file_and_its_first_rejects(tmp_path: Path) -> None:
    bad = bad_sectors(tmp_path / "bad.csv", 7)
    said: list[str] = []
    run = load(tmp_path / "store.duckdb", CURATED, bad, said=said)
    assert run.exit_code == ExitCode.DATA and run.total("rejected") == 7
    assert said[0].startswith(f"loaded {CURATED} (incidents_csv -> curated-incidents): 9 read, 9 inserted")
    rejects = [line for line in said if line.startswith(f"  {bad}:")]
    assert len(rejects) == orchestrate.REJECTS_SHOWN
    assert rejects[0].startswith(f"  {bad}:2: target_sector[0]: Input should be 'government'")
    file_id = run.files[1].file_id
    assert said[-1] == f"  ... and 2 more: cyberlog query \"SELECT * FROM rejects WHERE file_id = '{file_id}'\""


def test_verbose_says_every_reject(tmp_path: Path) -> None:
    said: list[str] = []
    load(tmp_path / "store.duckdb", bad_sectors(tmp_path / "bad.csv", 7), said=said, verbose=True)
    assert len([line for line in said if ": target_sector[0]: " in line]) == 7
    assert not any("more: cyberlog query" in line for line in said)


def test_rejects_within_the_tolerance_exit_0_and_the_run_is_recorded(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    run = load(db, UNKNOWN_SECTOR, rules=orchestrate.Rules(max_rejects=1))
    assert run.exit_code == ExitCode.OK
    assert _rows(db, "SELECT run_id, command, exit_code, files_loaded, rejected FROM ingest_runs") == [
        (run.run_id, "ingest", 0, 1, 1)
    ]


def test_the_outcome_sums_the_run_up(tmp_path: Path) -> None:
    run = load(tmp_path / "store.duckdb", CURATED, CFR)
    run.warnings.append("source x: no files match x/*.csv")
    lines = orchestrate.outcome(run)
    assert lines[0] == "warning: source x: no files match x/*.csv"
    assert (
        lines[1] == f"run {run.run_id}: 2 loaded, 0 skipped, 0 failed; 12 inserted, 0 updated, 0 unchanged, 0 rejected"
    )
    assert run.identity is not None
    assert lines[-1] == (
        f"identity: {run.identity.matched} new cross-source matches, {run.identity.stale} no "
        f"longer hold; {run.identity.clusters} clusters"
    )


def test_a_bug_during_a_run_is_recorded_as_exit_1_then_raised(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"

    def broken(con: duckdb.DuckDBPyConnection, run: RunResult) -> None:
        raise RuntimeError("a bug")

    jobs = orchestrate.file_jobs([CURATED], None, None, None, "utf-8")
    with pytest.raises(RuntimeError, match="a bug"):
        orchestrate.run_jobs(db, "ingest", None, jobs, [], orchestrate.Rules(), wait=None, say=print, after=broken)
    assert _rows(db, "SELECT exit_code, finished_at IS NOT NULL FROM ingest_runs") == [(1, True)]


class _OneMore:
    """A remote source whose one download appears while the run goes."""

    def __init__(self, path: Path) -> None:
        self.path, self.told = path, []

    def jobs(self) -> Iterator[Job]:
        yield Job(self.path, None, None, None, "utf-8")

    def on_file(self, result: FileResult) -> None:
        self.told.append(result.path)


def test_jobs_that_appear_during_the_run_are_loaded_and_told_of_every_file(tmp_path: Path) -> None:
    more = _OneMore(CFR)
    jobs = orchestrate.file_jobs([CURATED], None, None, None, "utf-8")
    run = orchestrate.run_jobs(
        tmp_path / "store.duckdb",
        "nightly",
        None,
        jobs,
        [],
        orchestrate.Rules(),
        wait=None,
        say=lambda line: None,
        remote=lambda con, run, report: more,
    )
    assert [(f.path, f.status) for f in run.files] == [(CURATED, "loaded"), (CFR, "loaded")]
    assert more.told == [CURATED, CFR]


def test_a_misp_feed_folder_stands_for_its_event_files() -> None:
    feed = FIXTURES / "misp" / "good" / "feed"
    jobs = orchestrate.file_jobs([feed, CFR], None, "mine", None, "latin-1")
    assert len(jobs) > 2 and all(job.path.parent == feed for job in jobs[:-1])
    assert jobs[-1] == Job(CFR, None, "mine", None, "latin-1")


def test_the_nightly_jobs_are_the_local_sources_files_and_a_warning_for_each_empty_glob(tmp_path: Path) -> None:
    shutil.copy(CFR, tmp_path / "cfr.csv")
    config = tmp_path / "cyberlog.toml"
    config.write_text(
        '[[sources]]\nname = "cfr"\nformat = "cfr_tracker"\npath = "*.csv"\ntimezone = "Europe/Kyiv"\n'
        '[[sources]]\nname = "none"\nformat = "gdelt"\npath = "gdelt/*.CSV"\n'
        '[[sources]]\nname = "far"\nformat = "gdelt"\nurl = "https://example.org/lastupdate.txt"\n',
        "utf-8",
    )
    jobs, warnings = orchestrate.nightly_jobs(config, load_config(config).local())
    assert [(j.path, j.format_label(), j.source, str(j.zone)) for j in jobs] == [
        (tmp_path / "cfr.csv", "cfr_tracker", "cfr", "Europe/Kyiv")
    ]
    assert jobs[0].format() is not None and jobs[0].format().name == "cfr_tracker"  # type: ignore[union-attr]
    assert warnings == ["source none: no files match gdelt/*.CSV"]


RUN_IMPORTS = """
import json, sys
from ingest.cli import main
sys.argv = ["cyberlog", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
print(json.dumps(sorted(sys.modules)))
"""


def imports_of_two_runs(*args: str | Path) -> list[set[str]]:
    """`cyberlog ARGS` run twice, each in a fresh interpreter: the modules each imported."""
    import json
    import subprocess
    import sys

    command = [sys.executable, "-c", RUN_IMPORTS, *map(str, args)]
    return [
        set(json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1]))
        for _ in range(2)
    ]


def test_a_nightly_with_nothing_new_imports_no_format_nor_pydantic(tmp_path: Path) -> None:
    # a file the ledger knows is skipped before its format's module is needed: the first run
    # validates the config and loads the file (and imports its format); the second reads the
    # config as validated then (ingest.run.settled), finds nothing new and imports neither
    shutil.copy(CFR, tmp_path / "cfr.csv")
    feed = tmp_path / "feed"  # a MISP feed folder: its manifest read, not the MISP format
    shutil.copytree(FIXTURES / "misp" / "good" / "feed", feed)
    config, db = tmp_path / "cyberlog.toml", tmp_path / "store.duckdb"
    config.write_text(
        '[[sources]]\nname = "cfr"\nformat = "cfr_tracker"\npath = "*.csv"\n'
        '[[sources]]\nname = "misp"\nformat = "misp"\npath = "feed"\n',
        "utf-8",
    )
    first, second = imports_of_two_runs("nightly", "--config", config, "--db", db)
    formats = {name for name in first | second if name.startswith("ingest.formats")}
    assert {"ingest.formats.cfr", "ingest.formats.misp", "pydantic", "ingest.run.config"} <= first
    assert not (formats | {"pydantic", "ingest.run.config", "ingest.feeds"}) & second


def test_a_skipped_file_imports_no_other_command_nor_the_parsing_machinery(tmp_path: Path) -> None:
    # the first ingest loads the file (pydantic, Arrow, the matcher); the second skips it,
    # building only the `ingest` command's module and importing none of what a load needs
    heavy = {"pydantic", "pyarrow", "ingest.cli.report", "ingest.cli.query", "ingest.cli.clusters"}
    heavy |= {"ingest.derive.clusters", "ingest.reports.export", "ingest.load.rejects", "ingest.canon.times"}
    heavy |= {"ingest.derive.bursts", "zoneinfo"}  # no alerts waiting and no rule given: bursts is not asked
    first, second = imports_of_two_runs("-q", "ingest", CFR, "--db", tmp_path / "store.duckdb")
    assert {"pyarrow", "pydantic", "ingest.cli.run"} <= first and not heavy & second


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["ingest", "a.csv"], "run"),
        (["nightly", "--config", "x.toml"], "run"),
        (["-q", "--log-format", "json", "report", "run", "x"], "report"),
        (["--log-format=json", "-v", "status"], "status"),
        (["export", "--help"], "query"),
        (["--help"], None),  # every command, as the help lists them
        (["--version"], None),
        (["nosuch"], None),  # typer says there is no such command, naming those there are
        (["-qv", "ingest"], None),  # not sure what it is: everything, and typer decides
        ([], None),
    ],
)
def test_a_command_line_builds_only_the_module_of_its_command(args: list[str], module: str | None) -> None:
    from ingest import cli

    assert cli.module_for(args) == module
    built = typer_commands(cli.build(module))
    assert "ingest" in built if module in (None, "run") else "ingest" not in built
    assert len(built) == (11 if module is None else len({c for c, m in cli.COMMANDS.items() if m == module}))


def test_a_shell_completing_gets_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import cli

    monkeypatch.setenv("_CYBERLOG_COMPLETE", "complete_bash")
    assert cli.module_for(["ingest", "a.csv"]) is None


def typer_commands(app: object) -> set[str]:
    import typer.main

    return set(typer.main.get_command(app).commands)  # type: ignore[arg-type,attr-defined]


def test_a_replay_reads_again_only_files_unchanged_since_their_load(tmp_path: Path) -> None:
    kept, changed = tmp_path / "kept.csv", tmp_path / "changed.csv"
    shutil.copy(UNKNOWN_SECTOR, kept)
    changed.write_text("other bytes\n", "utf-8")
    files = [
        RejectedFile("fil_1", kept, "curated-incidents", "incidents_csv", None, 1),
        RejectedFile("fil_2", changed, "curated-incidents", "incidents_csv", "0" * 64, 3),
        RejectedFile("fil_3", tmp_path / "gone.csv", "cfr", "cfr_tracker", None, 2),
    ]
    jobs, warnings = orchestrate.replay_jobs(files, None, None, None)
    assert [(j.path, j.source, j.encoding, j.replaces) for j in jobs] == [(kept, "curated-incidents", "utf-8", "fil_1")]
    assert warnings == [
        f"{changed}: gone or changed since it was loaded: its 3 rejects cannot be replayed",
        f"{tmp_path / 'gone.csv'}: gone or changed since it was loaded: its 2 rejects cannot be replayed",
    ]


def test_a_replay_marks_the_old_rejects_of_each_file_that_loaded_again(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    first = load(db, UNKNOWN_SECTOR)
    old = first.files[0].file_id
    assert old is not None
    jobs, _ = orchestrate.replay_jobs(
        [RejectedFile(old, UNKNOWN_SECTOR, "curated-incidents", "incidents_csv", first.files[0].sha256, 1)],
        None,
        None,
        None,
    )
    replay = orchestrate.run_jobs(
        db,
        "replay",
        None,
        jobs,
        [],
        orchestrate.Rules(),
        wait=None,
        say=lambda line: None,
        after=orchestrate.mark_replayed(jobs),
    )
    assert _rows(db, f"SELECT replay_run FROM rejects WHERE file_id = '{old}'") == [(replay.run_id,)]


def test_the_config_template_is_written_once_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "cyberlog.toml"
    write_template(path)
    assert load_config(path).sources  # a config that loads as it is
    path.write_text("mine", "utf-8")
    with pytest.raises(UsageError) as refused:
        write_template(path)
    assert str(refused.value) == f"{path} exists: edit it, or pass --force to overwrite it"
    write_template(path, force=True)
    assert path.read_text("utf-8").startswith("#")


def test_a_known_file_is_skipped_by_whichever_path_leads_to_it(tmp_path: Path) -> None:
    # the ledger keeps a file's real path: a link to the file, a linked folder holding it, or
    # a path through `..` is the same file and skipped; the same bytes elsewhere are found by
    # their digest instead, and a link to another file is not the file
    real = tmp_path / "real"
    real.mkdir()
    shutil.copy(CFR, real / "cfr.csv")
    db = tmp_path / "store.duckdb"
    assert [f.status for f in load(db, real / "cfr.csv").files] == ["loaded"]
    (tmp_path / "linked").symlink_to(real, target_is_directory=True)
    (tmp_path / "cfr-link.csv").symlink_to(real / "cfr.csv")
    (tmp_path / "other.csv").write_text(CFR.read_text("utf-8").replace("\n", "\r\n"), "utf-8")
    (tmp_path / "other-link.csv").symlink_to(tmp_path / "other.csv")
    paths = [tmp_path / "linked" / "cfr.csv", tmp_path / "cfr-link.csv", real / ".." / "real" / "cfr.csv"]
    with duckdb.connect(str(db)) as con:
        ledger = Ledger(con)
        assert [ledger.same_file(path, "cfr") for path in paths] == ["cfr", "cfr", "cfr"]
        assert [ledger.same_file(path, None) for path in paths] == ["cfr", "cfr", "cfr"]
        assert ledger.same_file(tmp_path / "other-link.csv", "cfr") is None
        assert ledger.same_file(tmp_path / "missing.csv", "cfr") is None
        assert ledger.same_file(real / "cfr.csv", "another source") is None
        stored = con.execute("SELECT path FROM ingest_files").fetchall()
    assert stored == [(str((real / "cfr.csv").resolve()),)]
