"""Incidents derived from claimed target lists (DDoSia): one per host and run of
consecutive lists naming it, so a host on a hundred lists is one claimed attack.

The rule is SQL (`sql/claims.sql`); this module runs it after a run loaded lists, over
every list of those sources (a late list can join or split runs), and adds what the host
names themselves state (ingest/canon/hosts.py): the registered domain as the target's
organisation and the ccTLD's country, with the TLD kept as written. Re-running over the
same lists gives the same incidents; a new list extends a run's incident in place.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from ingest.canon import galaxy
from ingest.canon.hosts import facts
from ingest.canon.identity import org_words
from ingest.derive.bursts import Derived
from ingest.store import execute_all, sql_dir, statements

# Lists further apart than this are not consecutive: the tracker captured none between them
# (it captures a few a day), so a host on both is two claimed attacks, not one of months.
MAX_GAP_HOURS = 48

# sources with a list loaded since their incidents were last derived (by this run, or by one
# killed before it derived them)
_PENDING = """
SELECT s.source FROM claim_snapshots s
GROUP BY s.source
HAVING max(s.loaded_at) > coalesce(
    (SELECT max(i.loaded_at) FROM incidents i WHERE i.source = s.source AND starts_with(i.source_ref, 'ddosia:')),
    '-infinity'::TIMESTAMPTZ)
"""


def derive(con: duckdb.DuckDBPyConnection, run_id: str) -> Derived | None:
    """The incidents of the sources with lists not yet derived, in one transaction; None
    when there are none."""
    sources = [row[0] for row in con.execute(_PENDING).fetchall()]
    if not sources:
        return None
    params = {"sources": sources, "run": run_id, "now": datetime.now(UTC), "max_gap_hours": MAX_GAP_HOURS}
    text = (sql_dir() / "claims.sql").read_text("utf-8")
    find, write = (statements(part) for part in text.split("/* facts */"))
    con.execute("BEGIN TRANSACTION")
    try:
        execute_all(con, find, params)
        _facts(con)
        execute_all(con, write, params)
        inserted, updated, unchanged, removed = con.execute("SELECT * FROM c_counts").fetchall()[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for table in ("lists", "named", "runs", "plan", "gone", "hosts", "claimants", "rows", "counts"):
            con.execute(f"DROP TABLE IF EXISTS c_{table}")
    return Derived(int(inserted), int(updated), int(unchanged), int(removed))


def _facts(con: duckdb.DuckDBPyConnection) -> None:
    """What each host name states (registered domain, ccTLD country, TLD) and its words for
    cross-source matching; each claimant under its canonical name."""
    hosts = [row[0] for row in con.execute("SELECT DISTINCT host FROM c_plan").fetchall()]
    found = [facts(host) for host in hosts]
    rows = {
        "host": hosts,
        "organisation": [f.registered for f in found],
        "country": [f.country for f in found],
        "country_raw": [f".{f.tld}" if f.tld else None for f in found],
        "name_words": [list(org_words(f.label, f.country)) if f.label else None for f in found],
    }
    schema = pa.schema([(name, pa.string()) for name in list(rows)[:-1]] + [("name_words", pa.list_(pa.string()))])
    _table(con, "c_hosts", pa.table(rows, schema))
    claimants = [row[0] for row in con.execute("SELECT DISTINCT claimant FROM c_plan").fetchall()]
    names = [galaxy.actor(name) for name in claimants]
    _table(
        con,
        "c_claimants",
        pa.table(
            {
                "claimant": claimants,
                "actor": names,
                "actor_raw": [c if c != n else None for c, n in zip(claimants, names, strict=True)],
            },
            pa.schema([("claimant", pa.string()), ("actor", pa.string()), ("actor_raw", pa.string())]),
        ),
    )


def _table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register("_facts", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _facts")
    con.unregister("_facts")
