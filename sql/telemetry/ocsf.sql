-- OCSF findings (FORMATS.md 7.3): one JSON event per line; class_uid 2004 (Detection
-- Finding) and 2005 (Incident Finding) are alerts, every other class (Network Activity
-- 4001 ...) is counted and skipped. `time` is epoch milliseconds (timestamp_t); `time_dt`
-- (RFC 3339) stands in when it is absent. `severity_id` is trusted over its caption, which
-- is read only for 99 Other. A line is checked (json_valid) and its fields taken
-- as a list in one more parse (cheaper than try()).
-- A table macro over the chunk's lines (tl_lines), for sql/telemetry.sql's parse; source_zone is
-- the source's declared timezone (NULL when it has none).
CREATE OR REPLACE TEMP MACRO tl_format(source_zone) AS TABLE
WITH fields AS (
    SELECT line, raw, CASE WHEN json_valid(raw) THEN json_extract_string(raw, [
        '$.class_uid', '$.time', '$.time_dt', '$.metadata.uid', '$.finding_info.uid', '$.finding_info_list[0].uid',
        '$.metadata.product.vendor_name', '$.metadata.product.name', '$.finding_info.title',
        '$.finding_info_list[0].title', '$.message', '$.finding_info.analytic.uid', '$.severity_id', '$.severity',
        '$.attacks[0].technique.uid', '$.attacks[0].technique.name', '$.finding_info.attacks[0].technique.uid',
        '$.finding_info.attacks[0].technique.name', '$.finding_info.types[0]', '$.desc', '$.action',
        '$.disposition', '$.status', '$.src_endpoint.ip', '$.src_endpoint.port', '$.dst_endpoint.ip',
        '$.dst_endpoint.port', '$.dst_endpoint.hostname', '$.dst_endpoint.domain', '$.src_url', '$.url.url_string',
        '$.dst_endpoint.owner.org.name', '$.unmapped.target_org', '$.count'
    ]) END AS v
    FROM tl_lines
), named AS (
    SELECT
        line, raw, v,
        v IS NULL OR NOT regexp_matches(raw, '^\s*\{') AS malformed,
        v[1] AS class_uid, TRY_CAST(v[1] AS INTEGER) AS class,
        v[2] AS t, v[3] AS t_dt,
        CASE WHEN regexp_full_match(v[2], '\s*-?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?\s*')
             THEN TRY_CAST(v[2] AS DOUBLE) END AS ms,
        v[13] AS severity_id, v[14] AS caption,
        CASE WHEN regexp_full_match(v[13], '[0-9]+') THEN TRY_CAST(v[13] AS INTEGER) END AS sid,
        coalesce(nullif(concat_ws(' ', v[15], v[16]), ''), nullif(concat_ws(' ', v[17], v[18]), '')) AS technique
    FROM fields
), timed AS (
    SELECT
        *,
        class IN (2004, 2005) AS is_finding,
        abs(ms) >= 1e8 AND abs(ms) < 1e11 AS in_seconds,
        has_utc_offset(t_dt) AS zoned,
        CASE WHEN t IS NOT NULL THEN try(to_timestamp(ms / 1000))
             WHEN has_utc_offset(t_dt) THEN TRY_CAST(t_dt AS TIMESTAMPTZ)
             WHEN source_zone IS NOT NULL AND contains(t_dt, ':') AND NOT bad_utc_offset(t_dt)
                 THEN timezone(source_zone, TRY_CAST(t_dt AS TIMESTAMP)) END AS seen
    FROM named
)
SELECT
    line, raw,
    CASE
        WHEN malformed THEN '(record)'
        WHEN class_uid IS NULL OR class IS NULL THEN 'class_uid'
        WHEN NOT is_finding THEN NULL
        WHEN t IS NOT NULL AND (in_seconds OR seen IS NULL) THEN 'time'
        WHEN t IS NULL AND t_dt IS NULL THEN 'time'
        WHEN t IS NULL AND seen IS NULL THEN 'time_dt'
        WHEN severity_id IS NOT NULL AND (sid IS NULL OR sid NOT IN (0, 1, 2, 3, 4, 5, 6, 99)) THEN 'severity_id'
    END AS problem_field,
    CASE
        WHEN malformed THEN 'malformed JSON'
        WHEN class_uid IS NULL THEN 'no class_uid: not an OCSF event'
        WHEN class IS NULL THEN '''' || left(class_uid, 100) || ''' is not an OCSF class_uid'
        WHEN NOT is_finding THEN NULL
        WHEN t IS NOT NULL AND in_seconds THEN '''' || t || ''': epoch in seconds? OCSF times are milliseconds'
        WHEN t IS NOT NULL AND seen IS NULL THEN '''' || left(t, 100) || ''' is not an epoch in milliseconds'
        WHEN t IS NULL AND t_dt IS NULL THEN 'no time: every finding needs one'
        WHEN t IS NULL AND NOT contains(t_dt, ':') AND isfinite(TRY_CAST(t_dt AS DATE))
            THEN '''' || left(t_dt, 100) || ''' is a date without a time of day: a finding needs the time it was found'
        WHEN t IS NULL AND NOT contains(t_dt, ':') THEN '''' || left(t_dt, 100) || ''' is not an RFC 3339 time'
        WHEN t IS NULL AND NOT zoned AND bad_utc_offset(t_dt) THEN '''' || left(t_dt, 100) || ''' has a UTC offset past 23:59'
        WHEN t IS NULL AND NOT zoned AND source_zone IS NULL
            THEN '''' || left(t_dt, 100) || ''' has no UTC offset: set timezone for the source'
        WHEN t IS NULL AND seen IS NULL THEN '''' || left(t_dt, 100) || ''' is not an RFC 3339 time'
        WHEN severity_id IS NOT NULL AND (sid IS NULL OR sid NOT IN (0, 1, 2, 3, 4, 5, 6, 99))
            THEN '''' || left(severity_id, 100) || ''' is not an OCSF severity_id (0-6 or 99)'
    END AS problem,
    CASE WHEN NOT malformed AND class IS NOT NULL AND NOT is_finding
         THEN 'OCSF class ' || class::VARCHAR || ' (not a finding)' END AS skip,
    coalesce(v[4], v[5], v[6]) AS ref,
    seen AS observed_at,
    coalesce(v[7] || ' ' || v[8], v[8], v[7], 'OCSF') AS product,
    coalesce(v[9], v[10], v[11]) AS signature,
    coalesce(v[12], v[5], v[6]) AS signature_id,
    CASE sid WHEN 1 THEN 'low' WHEN 2 THEN 'low' WHEN 3 THEN 'medium' WHEN 4 THEN 'high' WHEN 5 THEN 'critical'
             WHEN 6 THEN 'critical'
             WHEN 99 THEN CASE WHEN lower(caption) IN ('low', 'medium', 'high', 'critical') THEN lower(caption) END
    END AS severity,
    coalesce(caption, severity_id) AS severity_raw,
    coalesce(technique, v[19], v[20], v[10]) AS category_raw,
    coalesce(v[21], v[22], v[23]) AS action,
    v[24] AS src_ip, v[25] AS src_port, v[26] AS dst_ip, v[27] AS dst_port,
    coalesce(v[28], v[29]) AS dst_host,
    coalesce(v[30], v[31]) AS url,
    coalesce(v[32], v[33]) AS target_org,
    v[34] AS event_count,
    coalesce(v[11], v[20]) AS message
FROM timed
