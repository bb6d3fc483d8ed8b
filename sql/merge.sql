-- The per-file merge, run by ingest/load/files.py inside the file's transaction, on the staged
-- records (stage_main, and an incident's stage_targets and stage_actors). The loader runs
-- `keys`, then the part named by the kind of record: `incident`, `event` or `claim` (a mixed
-- format's second kind is merged the same way after, from stage_also). Every value is a
-- bound $parameter.

/* keys */
-- Stable ids: the same (source, source_ref) always gets the same id.
-- Only keys here: the staged rows themselves are read once more, by the final insert.
CREATE OR REPLACE TEMP TABLE stage_keyed AS
SELECT
    s.seq,
    s.source_ref,
    s.content_hash,
    s.source_modified,
    CASE $kind WHEN 'incident' THEN 'inc_' WHEN 'event' THEN 'evt_' WHEN 'claim' THEN 'clm_' END
        || left(sha256($source || chr(31) || s.source_ref), 20) AS rid,
    row_number() OVER newest_first AS copy_no,
    first_value(coalesce('on line ' || s.line, 'at ' || s.pointer)) OVER newest_first AS kept_at,
    s.source_modified < first_value(s.source_modified) OVER newest_first AS superseded
FROM stage_main s
WINDOW newest_first AS (PARTITION BY s.source_ref ORDER BY s.source_modified DESC NULLS LAST, s.seq);

-- A ref given twice in one file: the newest version by the source's own stamp wins, else
-- the first. An older version is superseded (counted, not rejected); any other copy is a
-- reject that says where the kept one is. Good records are staged without their raw text
-- (it would double what is staged); the loader reads these few rejects' raw text back.
INSERT INTO stage_rejects
SELECT
    s.line, s.pointer, 'ref',
    'duplicate ref ' || to_json(s.source_ref)::VARCHAR || ' in this file: the record '
        || k.kept_at || ' is kept',
    json_array(json_object('field', 'ref', 'reason', 'duplicate ref in this file'))::VARCHAR,
    NULL
FROM stage_keyed k
JOIN stage_main s USING (seq)
WHERE k.copy_no > 1 AND NOT coalesce(k.superseded, false);

/* incident */
-- What to do with each record: insert new ones, replace changed ones unless the stored
-- version is newer by the source's own stamp, keep re-sent ones untouched.
CREATE OR REPLACE TEMP TABLE stage_plan AS
SELECT
    k.seq,
    k.rid,
    CASE
        WHEN t.incident_id IS NULL THEN 'insert'
        WHEN t.content_hash = k.content_hash THEN 'unchanged'
        -- older by the source's own stamp, or no stamp against a stamped copy: never replaces it
        WHEN k.source_modified < t.source_modified
          OR (k.source_modified IS NULL AND t.source_modified IS NOT NULL) THEN 'stale'
        ELSE 'update'
    END AS action,
    t.first_loaded_at
FROM stage_keyed k
LEFT JOIN incidents t ON t.incident_id = k.rid
WHERE k.copy_no = 1;

DELETE FROM incidents WHERE incident_id IN (SELECT rid FROM stage_plan WHERE action = 'update');

-- A replaced incident's targets and actors are replaced with it, before it is inserted again.
DELETE FROM incident_targets WHERE incident_id IN (SELECT rid FROM stage_plan WHERE action = 'update');

INSERT INTO incident_targets BY NAME
SELECT p.rid AS incident_id, s.* EXCLUDE (seq), $run AS run_id, $file AS file_id
FROM stage_targets s
JOIN stage_plan p USING (seq)
WHERE p.action IN ('insert', 'update');

DELETE FROM incident_actors WHERE incident_id IN (SELECT rid FROM stage_plan WHERE action = 'update');

INSERT INTO incident_actors BY NAME
SELECT p.rid AS incident_id, s.* EXCLUDE (seq), $run AS run_id, $file AS file_id
FROM stage_actors s
JOIN stage_plan p USING (seq)
WHERE p.action IN ('insert', 'update');

INSERT INTO incidents BY NAME
SELECT
    s.* EXCLUDE (seq),
    p.rid AS incident_id,
    $source AS source,
    $run AS run_id,
    $file AS file_id,
    coalesce(p.first_loaded_at, $now) AS first_loaded_at,
    $now AS loaded_at
FROM stage_main s
JOIN stage_plan p USING (seq)
WHERE p.action IN ('insert', 'update');

/* event */
-- As for an incident (above); an event has no child rows. The stored copy is found by its
-- (source, source_ref), which its id is made of: a decade of events is scanned only where a
-- row group's refs overlap the file's (their zone maps skip the rest), where its random ids
-- would be read whole. GDELT's ids grow with time, so a new day's file reads almost nothing.
CREATE OR REPLACE TEMP TABLE stage_plan AS
SELECT
    k.seq,
    k.rid,
    CASE
        WHEN t.event_id IS NULL THEN 'insert'
        WHEN t.content_hash = k.content_hash THEN 'unchanged'
        -- older by the source's own stamp, or no stamp against a stamped copy: never replaces it
        WHEN k.source_modified < t.source_modified
          OR (k.source_modified IS NULL AND t.source_modified IS NOT NULL) THEN 'stale'
        ELSE 'update'
    END AS action,
    t.first_loaded_at
FROM stage_keyed k
LEFT JOIN diplomatic_events t ON t.source = $source AND t.source_ref = k.source_ref
WHERE k.copy_no = 1;

DELETE FROM diplomatic_events WHERE event_id IN (SELECT rid FROM stage_plan WHERE action = 'update');

INSERT INTO diplomatic_events BY NAME
SELECT
    s.* EXCLUDE (seq),
    p.rid AS event_id,
    $source AS source,
    $run AS run_id,
    $file AS file_id,
    coalesce(p.first_loaded_at, $now) AS first_loaded_at,
    $now AS loaded_at
FROM stage_main s
JOIN stage_plan p USING (seq)
WHERE p.action IN ('insert', 'update')

/* claim */
-- A claimed target list (DDoSia): each host on it at the list's time, and the list itself,
-- whose time also ends a run of lists for the hosts it no longer names (sql/claims.sql).
CREATE OR REPLACE TEMP TABLE stage_plan AS
SELECT
    k.seq,
    k.rid,
    CASE
        WHEN t.claim_id IS NULL THEN 'insert'
        WHEN t.content_hash = k.content_hash THEN 'unchanged'
        ELSE 'update'
    END AS action,
    t.first_loaded_at
FROM stage_keyed k
LEFT JOIN claim_targets t ON t.claim_id = k.rid
WHERE k.copy_no = 1;

DELETE FROM claim_targets WHERE claim_id IN (SELECT rid FROM stage_plan WHERE action = 'update');

INSERT INTO claim_targets BY NAME
SELECT
    s.* EXCLUDE (seq),
    p.rid AS claim_id,
    $source AS source,
    $run AS run_id,
    $file AS file_id,
    coalesce(p.first_loaded_at, $now) AS first_loaded_at,
    $now AS loaded_at
FROM stage_main s
JOIN stage_plan p USING (seq)
WHERE p.action IN ('insert', 'update');

DELETE FROM claim_snapshots WHERE source = $source AND snapshot_at = $snapshot;

INSERT INTO claim_snapshots
SELECT $source, $snapshot, count(DISTINCT s.host), count(*), $run, $file, $now
FROM stage_keyed k
JOIN stage_main s USING (seq)
WHERE k.copy_no = 1;
