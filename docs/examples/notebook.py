"""A notebook session with cyberlog's store, as cells: run it whole with
`python docs/examples/notebook.py STORE`, or paste the cells into Jupyter.
(tests/test_api.py runs it on the bundled fixtures and checks what it prints.)"""

import sys

import ingest

store = ingest.connect(sys.argv[1] if len(sys.argv) > 1 else None)  # read-only; the snapshot while a nightly writes

# %% What can I ask? Every canned report, with its params, their types, choices and defaults.
for report in store.reports():
    print(report.name, "-", report.title)
lag = next(r for r in store.reports() if r.name == "lag_profile")
print([(p.name, p.type, p.default) for p in lag.params][:3])

# %% Ad-hoc SQL, with $params: a DuckDB relation, so .df(), .to_arrow_table(), .pl() and .fetchall() work.
attacks = store.query(
    "SELECT title, started_at FROM v_incidents WHERE list_contains(target_countries, $country) ORDER BY started_at, title",
    {"country": "UKR"},
)
print(len(attacks.df()), "attacks on Ukraine; the first:", attacks.fetchall()[0][0])

# %% A canned report with its params as keywords, read as ingest reads them ("Ukraine" is UKR).
near = store.report("incidents_near_events", country="Ukraine", since="2022-02-15", until="2022-02-15")
table = near.to_arrow_table()  # or .arrow(): a stream of record batches
print(table.num_rows, "incident-event pairs on 15 Feb 2022; columns:", table.column_names[:4])

# %% The statistics: is the timing unusual? (see docs/reports/reading.md before believing a p-value)
profile = store.report("lag_profile", event_class="sanction").df()
print(profile[["lag", "observed", "expected", "p_adjusted"]].head(3).to_string(index=False))

# %% A wrong name or value is cyberlog's own error, saying what it takes.
try:
    store.report("lag_profile", event_class="sanctions!")
except ingest.errors.UsageError as error:
    print("UsageError:", error)

store.close()
