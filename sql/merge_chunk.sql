-- The merge of a big log's alerts, batch by batch inside the file's one transaction, run by
-- ingest/load/files.py (the per-file merge.sql needs the whole file staged first). Each batch is
-- inserted as it comes, with no look at the store: reading every stored alert id for
-- every batch would make a big store slow to add to. Once the last batch is in, one pass
-- reconciles the file with itself and with what was stored before it, as merge.sql does:
-- the first copy of a ref in the file is kept (later ones are rejects); a ref stored
-- before and re-sent unchanged is left as it was; one re-sent changed replaces the stored
-- row (keeping its first_loaded_at). Small results are read back as Arrow: a temporary
-- table made inside a transaction would live until its end.

/* apply */
-- A batch of parsed lines (stage_main: sql/telemetry.sql's parse) and the attack type of each
-- category and signature the file has given so far (stage_categories): its alerts, the lines
-- with no bad field that were not skipped, in the store's shape.
INSERT INTO alerts BY NAME
SELECT
    a.line, a.pointer, a.source_ref, a.observed_at, a.product, a.signature, a.signature_id,
    a.severity, a.severity_raw, coalesce(c.category, 'other') AS category, a.category_raw, a.action,
    a.src_ip, a.src_ip_num, a.src_port, a.dst_ip, a.dst_ip_num, a.dst_port, a.dst_host, a.url, a.target_org,
    alert_target_key(a.dst_host, a.target_org, a.dst_ip) AS target_key,
    a.event_count, a.message, NULL::TIMESTAMPTZ AS source_modified, a.content_hash,
    'alr_' || left(sha256($source || chr(31) || a.source_ref), 20) AS alert_id,
    $source AS source,
    $run AS run_id,
    $file AS file_id,
    $now AS first_loaded_at,
    $now AS loaded_at
FROM stage_main a
LEFT JOIN stage_categories c
    ON c.category_raw IS NOT DISTINCT FROM a.category_raw AND c.signature IS NOT DISTINCT FROM a.signature
WHERE a.bad_field IS NULL AND NOT a.skipped;

/* twice */
-- Refs this file gave twice: candidates by a 64-bit hash of the id (small to group). None,
-- the common case, and the loader goes on without reading the ids again.
SELECT hash(alert_id) AS h FROM alerts WHERE file_id = $file GROUP BY ALL HAVING count(*) > 1;

/* repeated */
-- The candidates (twice) exactly; the first copy (the lowest line) stays.
SELECT alert_id, line, source_ref, min(line) OVER (PARTITION BY alert_id) AS kept_line
FROM alerts
WHERE file_id = $file AND hash(alert_id) IN (SELECT h FROM twice)
QUALIFY count(*) OVER (PARTITION BY alert_id) > 1;

/* drop repeated */
INSERT INTO stage_rejects
SELECT
    line, NULL, 'ref',
    'duplicate ref ' || to_json(source_ref)::VARCHAR || ' in this file: the record on line ' || kept_line || ' is kept',
    json_array(json_object('field', 'ref', 'reason', 'duplicate ref in this file'))::VARCHAR,
    NULL
FROM repeated
WHERE line > kept_line;

DELETE FROM alerts USING repeated r
WHERE alerts.file_id = $file AND alerts.alert_id = r.alert_id AND alerts.line = r.line AND r.line > r.kept_line;

/* others */
-- Are there alerts from other files? None (a first log into the store): nothing to settle.
SELECT EXISTS (SELECT 1 FROM alerts WHERE file_id <> $file);

/* stored */
-- This file's refs that were stored before it: unchanged, or changed.
SELECT n.alert_id, n.content_hash = o.content_hash AS same, o.first_loaded_at
FROM alerts n
JOIN alerts o ON o.alert_id = n.alert_id
WHERE n.file_id = $file AND o.file_id <> $file;

/* settle stored */
DELETE FROM alerts WHERE file_id = $file AND alert_id IN (SELECT alert_id FROM stored WHERE same);

DELETE FROM alerts WHERE file_id <> $file AND alert_id IN (SELECT alert_id FROM stored WHERE NOT same);

UPDATE alerts SET first_loaded_at = s.first_loaded_at
FROM stored s
WHERE alerts.alert_id = s.alert_id AND alerts.file_id = $file AND NOT s.same
