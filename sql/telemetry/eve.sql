-- Suricata EVE JSON (FORMATS.md 7.4): one JSON object per line; `event_type` alert is an
-- alert, every other type (flow, http, dns, tls, stats ...) is counted and skipped. A line
-- is checked (json_valid) and its fields taken as a list in one more parse: cheaper than try().
-- A table macro over the chunk's lines (tl_lines), for sql/telemetry.sql's parse; source_zone is
-- the source's declared timezone (NULL when it has none).
CREATE OR REPLACE TEMP MACRO tl_format(source_zone) AS TABLE
WITH fields AS (
    SELECT line, raw, CASE WHEN json_valid(raw) THEN json_extract_string(raw, [
        '$.event_type', '$.timestamp', '$.src_ip', '$.src_port', '$.dest_ip', '$.dest_port', '$.flow_id',
        '$.tx_id', '$.alert.signature_id', '$.alert.signature', '$.alert.category', '$.alert.severity',
        '$.alert.action', '$.http.hostname', '$.http.url', '$.tls.sni', '$.alert.gid'
    ]) END AS v
    FROM tl_lines
), timed AS (
    SELECT *, CASE WHEN zoned THEN as_written
                   WHEN source_zone IS NOT NULL AND contains(v[2], ':') AND NOT bad_utc_offset(v[2])
                       THEN timezone(source_zone, as_written::TIMESTAMP) END AS seen
    FROM (SELECT *, has_utc_offset(v[2]) AS zoned, TRY_CAST(v[2] AS TIMESTAMPTZ) AS as_written
          FROM fields)
)
SELECT
    line, raw,
    CASE
        WHEN v IS NULL OR NOT starts_with(ltrim(raw), '{') THEN '(record)'
        WHEN v[1] IS NULL THEN 'event_type'
        WHEN v[1] <> 'alert' THEN NULL
        WHEN v[2] IS NULL OR seen IS NULL THEN 'timestamp'
    END AS problem_field,
    CASE
        WHEN v IS NULL THEN 'malformed JSON'
        WHEN NOT starts_with(ltrim(raw), '{') THEN 'expected a JSON object on each line'
        WHEN v[1] IS NULL THEN 'no event_type: not a Suricata EVE record'
        WHEN v[1] <> 'alert' THEN NULL
        WHEN v[2] IS NULL THEN 'no timestamp'
        WHEN as_written IS NULL OR NOT isfinite(as_written) THEN '''' || v[2] || ''' is not an ISO 8601 time'
        WHEN NOT zoned AND bad_utc_offset(v[2]) THEN '''' || v[2] || ''' has a UTC offset past 23:59'
        WHEN NOT contains(v[2], ':') THEN '''' || v[2] || ''' is a date without a time of day: an alert needs the time it fired'
        WHEN NOT zoned AND source_zone IS NULL
            THEN '''' || v[2] || ''' has no UTC offset (older Suricata writes the sensor''s local time): set timezone for the source'
        WHEN seen IS NULL THEN '''' || v[2] || ''' is not an ISO 8601 time'
    END AS problem,
    CASE WHEN v[1] <> 'alert' THEN 'Suricata EVE ' || v[1] || ' record (not an alert)' END AS skip,
    concat_ws(':', v[7], v[8], v[17], v[9], v[2]) AS ref,
    seen AS observed_at,
    'Suricata' AS product,
    v[10] AS signature,
    CASE WHEN v[9] IS NOT NULL THEN coalesce(v[17], '1') || ':' || v[9] END AS signature_id,
    CASE v[12] WHEN '1' THEN 'high' WHEN '2' THEN 'medium' WHEN '3' THEN 'low' WHEN '4' THEN 'low' END AS severity,
    v[12] AS severity_raw,
    v[11] AS category_raw,
    v[13] AS action,
    v[3] AS src_ip, v[4] AS src_port, v[5] AS dst_ip, v[6] AS dst_port,
    coalesce(v[14], v[16]) AS dst_host,
    v[15] AS url,
    NULL::VARCHAR AS target_org,
    NULL::VARCHAR AS event_count,
    v[10] AS message
FROM timed
