-- title: Ingest health per source
-- description: One row per source: how much it holds, how new its data is, when a run last
--   loaded it and last finished cleanly, and what the last `runs` runs that touched it
--   read, rejected, skipped and failed. A source whose newest data is old, or whose runs
--   keep rejecting or failing, needs a look; `cyberlog query "SELECT * FROM rejects WHERE
--   source = '...'"` shows why. Times are UTC.
-- param: runs INTEGER = 7  how many of each source's latest runs to sum up
-- example: cyberlog report run ingest_health
-- example: cyberlog report run ingest_health -p runs=30 --format csv
WITH records AS (
    SELECT * FROM v_source_records
), touched AS (
    SELECT
        s.*, r.started_at, r.finished_at, r.exit_code,
        row_number() OVER (PARTITION BY s.source ORDER BY r.started_at DESC, r.run_id) AS recent
    FROM ingest_run_sources s
    JOIN ingest_runs r USING (run_id)
), runs AS (
    SELECT
        source,
        count(*) AS runs,
        max(started_at) AS last_run,
        max(finished_at) FILTER (WHERE exit_code = 0) AS last_clean_run,
        max(started_at) FILTER (WHERE files_loaded > 0) AS last_run_that_loaded,
        sum(files_loaded) AS files_loaded,
        sum(files_skipped) AS files_skipped,
        sum(files_failed) AS files_failed,
        sum(records_read) AS records_read,
        sum(rejected) AS rejected,
        sum(records_skipped) AS records_skipped
    FROM touched
    WHERE recent <= $runs
    GROUP BY source
)
SELECT
    coalesce(r.source, x.source) AS source,
    coalesce(x.kind, '(nothing stored)') AS kind,
    coalesce(x.records, 0) AS records,
    x.newest_data,
    x.last_loaded,
    r.last_run,
    r.last_clean_run,
    r.last_run_that_loaded,
    coalesce(r.runs, 0) AS runs,
    coalesce(r.files_loaded, 0) AS files_loaded,
    coalesce(r.files_skipped, 0) AS files_skipped,
    coalesce(r.files_failed, 0) AS files_failed,
    coalesce(r.records_read, 0) AS records_read,
    coalesce(r.rejected, 0) AS rejected,
    coalesce(r.records_skipped, 0) AS records_skipped
FROM runs r
FULL JOIN records x USING (source)
ORDER BY source, kind
