-- The merge of a big log's alerts, chunk by chunk inside the file's one transaction, run by
-- ingest/load.py (the per-file merge.sql needs the whole file staged first). The chunk is
-- `stage_main` (an Arrow table); what to do with each record is computed first (the plan,
-- read back as Arrow: a temporary table made inside a transaction would live until its end).
-- A ref already stored by this file, or seen unchanged in it (`seen_unchanged`), or given
-- twice in the chunk, is a duplicate: the first copy in the file is kept, as merge.sql does.

/* plan */
WITH keyed AS (
    SELECT
        seq, line, source_ref, content_hash,
        'alr_' || left(sha256($source || chr(31) || source_ref), 20) AS rid,
        row_number() OVER same_ref AS copy_no,
        first_value(line) OVER same_ref AS first_line
    FROM stage_main
    WINDOW same_ref AS (PARTITION BY source_ref ORDER BY seq)
)
SELECT
    k.seq, k.line, k.source_ref, k.rid,
    CASE
        WHEN k.copy_no > 1 OR u.rid IS NOT NULL OR t.file_id = $file THEN 'duplicate'
        WHEN t.alert_id IS NULL THEN 'insert'
        WHEN t.content_hash = k.content_hash THEN 'unchanged'
        ELSE 'update'
    END AS action,
    CASE  -- the file's first copy: in an earlier batch (stored, or seen unchanged), else in this one
        WHEN u.rid IS NOT NULL THEN u.line
        WHEN t.file_id = $file THEN t.line
        ELSE k.first_line
    END AS kept_line,
    t.first_loaded_at
FROM keyed k
LEFT JOIN alerts t ON t.alert_id = k.rid
LEFT JOIN seen_unchanged u ON u.rid = k.rid;

/* apply */
-- (then merge.sql's last two statements: the updated rows replaced, the new ones inserted)
INSERT INTO stage_rejects
SELECT
    line, NULL, 'ref',
    'duplicate ref ' || to_json(source_ref)::VARCHAR || ' in this file: the record on line ' || kept_line || ' is kept',
    json_array(json_object('field', 'ref', 'reason', 'duplicate ref in this file'))::VARCHAR,
    NULL
FROM stage_plan
WHERE action = 'duplicate'
