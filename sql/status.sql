-- `cyberlog status`: what the store holds, per source, at a glance. One row per source that
-- any run touched or that holds records: its kind and record count, its newest data, the
-- last run that touched it and that run's exit code, files loaded and failed over all
-- runs, rejects kept for it, records whose source wrote them before the time they give
-- (v_time_disagreements), records with an attack-type or sector word no vocabulary maps
-- (v_unmapped), and for a remote source when it last fetched something.
WITH records AS (
    SELECT * FROM v_source_records
), last_run AS (
    SELECT s.source, max(r.started_at) AS last_run_at, arg_max(r.exit_code, r.started_at) AS last_exit,
           arg_max(r.finished_at IS NULL, r.started_at) AS last_unfinished,
           sum(s.files_loaded) AS files_loaded, sum(s.files_failed) AS files_failed
    FROM ingest_run_sources s JOIN ingest_runs r USING (run_id)
    GROUP BY s.source
), kept AS (
    SELECT source, count(*) AS rejects FROM rejects GROUP BY source
), disagree AS (
    SELECT source, count(*) AS time_disagreements FROM v_time_disagreements GROUP BY source
), unmapped AS (
    SELECT source, count(DISTINCT id) AS unmapped FROM v_unmapped GROUP BY source
), fetched AS (
    SELECT source, max(fetched_at) AS last_fetched_at FROM fetch_state WHERE item NOT LIKE 'list:%' GROUP BY source
)
SELECT
    coalesce(x.source, l.source) AS source,
    coalesce(x.kind, '(nothing stored)') AS kind,
    coalesce(x.records, 0) AS records,
    x.newest_data,
    l.last_run_at,
    CASE WHEN l.last_unfinished THEN NULL ELSE l.last_exit END AS last_exit,
    coalesce(l.files_loaded, 0) AS files_loaded,
    coalesce(l.files_failed, 0) AS files_failed,
    coalesce(k.rejects, 0) AS rejects,
    coalesce(d.time_disagreements, 0) AS time_disagreements,
    coalesce(u.unmapped, 0) AS unmapped,
    f.last_fetched_at
FROM records x
FULL JOIN last_run l ON l.source = x.source
LEFT JOIN kept k ON k.source = coalesce(x.source, l.source)
LEFT JOIN disagree d ON d.source = coalesce(x.source, l.source)
LEFT JOIN unmapped u ON u.source = coalesce(x.source, l.source)
LEFT JOIN fetched f ON f.source = coalesce(x.source, l.source)
ORDER BY source, kind
