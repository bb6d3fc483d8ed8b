-- The per-file merge, run by ingest/load.py inside the file's transaction.
-- {table}, {id} and {prefix} are filled in by the loader from a fixed table of kinds;
-- every value is a bound $parameter. Statements are separated by ";\n"; the last one
-- (the insert of parent rows) runs after the children are replaced.

-- Stable ids: the same (source, source_ref) always gets the same id.
-- Only keys here: the staged rows themselves are read once more, by the final insert.
CREATE OR REPLACE TEMP TABLE stage_keyed AS
SELECT
    s.seq,
    s.content_hash,
    s.source_modified,
    '{prefix}' || left(sha256($source || chr(31) || s.source_ref), 20) AS rid,
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

-- What to do with each record: insert new ones, replace changed ones unless the stored
-- version is newer by the source's own stamp, keep re-sent ones untouched.
CREATE OR REPLACE TEMP TABLE stage_plan AS
SELECT
    k.seq,
    k.rid,
    CASE
        WHEN t.{id} IS NULL THEN 'insert'
        WHEN t.content_hash = k.content_hash THEN 'unchanged'
        WHEN k.source_modified < t.source_modified THEN 'stale'
        ELSE 'update'
    END AS action,
    t.first_loaded_at
FROM stage_keyed k
LEFT JOIN {table} t ON t.{id} = k.rid
WHERE k.copy_no = 1;

DELETE FROM {table} WHERE {id} IN (SELECT rid FROM stage_plan WHERE action = 'update');

INSERT INTO {table} BY NAME
SELECT
    s.* EXCLUDE (seq),
    p.rid AS {id},
    $source AS source,
    $run AS run_id,
    $file AS file_id,
    coalesce(p.first_loaded_at, $now) AS first_loaded_at,
    $now AS loaded_at
FROM stage_main s
JOIN stage_plan p USING (seq)
WHERE p.action IN ('insert', 'update')
