"""`cyberlog clusters ...`: cross-source identity, and the decisions behind it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ingest import snapshot
from ingest.cli.common import Db, say
from ingest.cli.output import CrlfOpt, FormatOpt, OutOpt, look, pick, width
from ingest.derive import clusters
from ingest.reports import clusters as cluster_reads
from ingest.reports import export, results
from ingest.store import open_store, resolve_db

if TYPE_CHECKING:
    import duckdb

app = typer.Typer(
    help="Cross-source identity: incidents several sources reported, and the decisions behind them.",
    no_args_is_help=True,
)

IncidentId = Annotated[
    str,
    typer.Argument(
        help="An incident_id (inc_...) from v_incidents, or an event_id (evt_...) from v_events.", show_default=False
    ),
]
Note = Annotated[str | None, typer.Option("--note", help="Why, for the ledger.")]
IdentityConfig = Annotated[
    Path | None, typer.Option("--config", "-c", help="Take [identity] settings from this cyberlog.toml.")
]


@app.command("list")
def clusters_list(
    every: Annotated[bool, typer.Option("--all", help="Also clusters of a single record.")] = False,
    events: Annotated[
        bool, typer.Option("--events", help="Event clusters: one real-world event, several records.")
    ] = False,
    format: FormatOpt = None,
    out: OutOpt = None,
    crlf: CrlfOpt = False,
    db: Db = None,
) -> None:
    """Print the incident clusters, newest first: the attacks several sources reported (or,
    with --events, the diplomatic events several records describe)."""
    noun, alone = ("event", "only one record describes") if events else ("incident", "only one source reported")
    fmt = pick(format, out)
    with results.reading(db) as con:
        sql, params = cluster_reads.listing(events=events, every=every)
        results.emit(con, sql, params, fmt, out, look(crlf=crlf))
        several, single = cluster_reads.sizes(con, events=events)
    more = "" if every or not single else " (--all lists them too)"
    say(f"{export.counted(several, 'cluster')} of several records; {export.counted(single, noun)} {alone}{more}")


@app.command("suggest")
def clusters_suggest(
    config: IdentityConfig = None,
    days: Annotated[
        int, typer.Option("--days", min=0, max=60, help="Look this many days beyond the rule's slack.")
    ] = 3,
    format: FormatOpt = None,
    out: OutOpt = None,
    crlf: CrlfOpt = False,
    db: Db = None,
) -> None:
    """Print the near misses: pairs of incidents from two sources that fail one criterion of
    the matching rule, and which. Review them; `clusters merge` joins a pair the rule missed."""
    settings = _identity(config)
    fmt = pick(format, out)
    with results.reading(db) as con:
        columns, found = clusters.suggest(con, settings, extra_days=days)
    results.write(columns, iter(found), fmt, out, look(crlf=crlf))
    say(export.counted(len(found), "near miss", "near misses"))


@app.command("show")
def clusters_show(
    cluster: Annotated[
        str, typer.Argument(help="A cluster_id (clu_..., ecl_...), incident_id (inc_...) or event_id (evt_...).")
    ],
    full: Annotated[
        bool, typer.Option("--full", help="Every column, and every cell whole (disagreements are long).")
    ] = False,
    db: Db = None,
) -> None:
    """Print a cluster's records, the decisions that joined them, and where the sources
    disagree: a table each, cut to the terminal unless --full."""
    shown = export.Look(width=width(), full=full, hint="--full shows every column and cell whole")
    with results.reading(db) as con:
        cluster_id, sections = cluster_reads.shown(con, cluster)
        for title, (sql, params) in sections.items():
            typer.echo(f"{title} of {cluster_id}:")
            results.emit(con, sql, params, "table", None, shown)
            typer.echo("")


def _decide(db: Path | None, first: str, second: str | None, decision: str, note: str | None) -> None:
    with open_store(db, write=True) as con:
        n = clusters.decide(con, first, second, decision, note)
        _refresh(con, db)  # readers during the next run see the decision
    say(f"{decision} {export.counted(n, 'link')}; the next nightly keeps this decision")


@app.command("undo")
def clusters_undo(
    incident: IncidentId,
    other: Annotated[str | None, typer.Argument(help="Only its link to this incident.", show_default=False)] = None,
    note: Note = None,
    db: Db = None,
) -> None:
    """Undo a match: one pair, or every link of one incident (or event). Never redone by the rule."""
    _decide(db, incident, other, "undone", note)


@app.command("merge")
def clusters_merge(incident: IncidentId, other: IncidentId, note: Note = None, db: Db = None) -> None:
    """Join two incidents (or two events) by hand: the rule missed them."""
    _decide(db, incident, other, "merged", note)


@app.command("match")
def clusters_match(config: IdentityConfig = None, db: Db = None) -> None:
    """Run the matching rule over every stored incident (after changing [identity])."""
    settings = _identity(config)
    with open_store(db, write=True) as con:
        m = clusters.match(con, None, settings, everything=True)
        _refresh(con, db)
    say(
        f"identity: {export.counted(m.matched, 'new cross-source match', 'new cross-source matches')}, "
        f"{m.stale} no longer hold; {export.counted(m.clusters, 'cluster')}"
    )


def _refresh(con: duckdb.DuckDBPyConnection, db: Path | None) -> None:
    if problem := snapshot.refresh(con, resolve_db(db)):
        say(f"warning: {problem}")


def _identity(config: Path | None) -> clusters.IdentitySettings:
    """The [identity] settings of the config, or the defaults."""
    from ingest.run.config import load_config

    return load_config(config).identity.settings() if config else clusters.IdentitySettings()
