-- Elastic Common Schema alerts (FORMATS.md 7.2): one JSON document per line; `event.kind`
-- alert or signal is an alert, every other kind (event, metric, state ...) is counted and
-- skipped. Real documents mix flat dotted keys ("event.kind") with nested objects, so each
-- field is read both ways and the nested one wins. A line is checked (json_valid) and its fields
-- taken as a list in one more parse (cheaper than try()); array fields (event.category, threat.technique.id ...) come as JSON text.
-- A table macro over the chunk's lines (tl_lines), for sql/telemetry.sql's parse; source_zone is
-- the source's declared timezone (NULL when it has none).
CREATE OR REPLACE TEMP MACRO tl_format(source_zone) AS TABLE
WITH fields AS (
    SELECT line, raw, CASE WHEN json_valid(raw) THEN json_extract_string(raw, [
        '$.event.kind', '$."event.kind"', '$."@timestamp"', '$.event.id', '$."event.id"',
        '$.observer.vendor', '$."observer.vendor"', '$.observer.product', '$."observer.product"',
        '$.event.module', '$."event.module"', '$.rule.name', '$."rule.name"',
        '$.kibana.alert.rule.name', '$."kibana.alert.rule.name"', '$.signal.rule.name', '$."signal.rule.name"',
        '$.message', '$.rule.id', '$."rule.id"',
        '$.kibana.alert.severity', '$."kibana.alert.severity"', '$.signal.rule.severity', '$."signal.rule.severity"',
        '$.event.severity', '$."event.severity"', '$.event.risk_score', '$."event.risk_score"',
        '$.threat.technique.id', '$."threat.technique.id"', '$.threat.technique.name', '$."threat.technique.name"',
        '$.event.category', '$."event.category"', '$.event.action', '$."event.action"',
        '$.event.type', '$."event.type"', '$.source.ip', '$."source.ip"', '$.source.port', '$."source.port"',
        '$.destination.ip', '$."destination.ip"', '$.destination.port', '$."destination.port"',
        '$.destination.domain', '$."destination.domain"', '$.url.domain', '$."url.domain"',
        '$.url.full', '$."url.full"', '$.organization.name', '$."organization.name"',
        '$.labels.target_org', '$."labels.target_org"'
    ]) END AS v
    FROM tl_lines
), named AS (
    SELECT
        line, raw, v,
        v IS NULL OR NOT regexp_matches(raw, '^\s*\{') AS malformed,
        coalesce(v[1], v[2]) AS kind,
        v[3] AS ts,
        coalesce(v[4], v[5]) AS event_id,
        coalesce(v[6], v[7]) AS vendor, coalesce(v[8], v[9]) AS product, coalesce(v[10], v[11]) AS module,
        coalesce(v[12], v[13], v[14], v[15], v[16], v[17], v[18]) AS signature,
        v[18] AS message,
        coalesce(v[19], v[20]) AS rule_id,
        coalesce(v[21], v[22], v[23], v[24]) AS sev_word,
        coalesce(v[25], v[26]) AS sev_num, coalesce(v[27], v[28]) AS risk,
        coalesce(v[29], v[30]) AS tech_id, coalesce(v[31], v[32]) AS tech_name,
        coalesce(v[33], v[34]) AS categories,
        coalesce(v[35], v[36]) AS event_action, coalesce(v[37], v[38]) AS event_type,
        coalesce(v[39], v[40]) AS src_ip, coalesce(v[41], v[42]) AS src_port,
        coalesce(v[43], v[44]) AS dst_ip, coalesce(v[45], v[46]) AS dst_port,
        coalesce(v[47], v[48], v[49], v[50]) AS dst_host,
        coalesce(v[51], v[52]) AS url,
        coalesce(v[53], v[54], v[55], v[56]) AS target_org
    FROM fields
), typed AS (
    SELECT
        *,
        lower(kind) IN ('alert', 'signal') AS is_alert,
        -- an array's first element (the field may be one value or an array of them)
        CASE WHEN starts_with(tech_id, '[') THEN try(json_extract_string(tech_id, '$[0]')) ELSE tech_id END AS tid,
        CASE WHEN starts_with(tech_name, '[') THEN try(json_extract_string(tech_name, '$[0]')) ELSE tech_name END
            AS tname,
        CASE WHEN starts_with(event_type, '[') THEN try(json_extract_string(event_type, '$[0]')) ELSE event_type END
            AS etype,
        CASE WHEN starts_with(categories, '[')
             THEN nullif(array_to_string(try(json_extract_string(categories, '$[*]')), ' '), '')
             ELSE categories END AS category_words,
        CASE WHEN lower(sev_word) IN ('low', 'medium', 'high', 'critical') THEN lower(sev_word) END AS word,
        CASE WHEN TRY_CAST(sev_num AS DOUBLE) IS NOT NULL THEN sev_num
             WHEN TRY_CAST(risk AS DOUBLE) IS NOT NULL THEN risk END AS score_raw,
        regexp_full_match(ts, '\s*-?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?\s*') AS epoch,
        has_utc_offset(ts) AS zoned
    FROM named
), timed AS (
    SELECT
        *,
        epoch AND abs(TRY_CAST(ts AS DOUBLE)) >= 1e8 AND abs(TRY_CAST(ts AS DOUBLE)) < 1e11 AS in_seconds,
        CASE WHEN epoch THEN try(to_timestamp(TRY_CAST(ts AS DOUBLE) / 1000))
             WHEN zoned THEN TRY_CAST(ts AS TIMESTAMPTZ)
             WHEN source_zone IS NOT NULL AND contains(ts, ':') AND NOT bad_utc_offset(ts)
                 THEN timezone(source_zone, TRY_CAST(ts AS TIMESTAMP)) END AS seen,
        TRY_CAST(score_raw AS DOUBLE) AS score
    FROM typed
)
SELECT
    line, raw,
    CASE
        WHEN malformed THEN '(record)'
        WHEN kind IS NULL OR NOT is_alert THEN NULL
        WHEN ts IS NULL OR in_seconds OR seen IS NULL THEN '@timestamp'
    END AS problem_field,
    CASE
        WHEN malformed THEN 'malformed JSON'
        WHEN kind IS NULL OR NOT is_alert THEN NULL
        WHEN ts IS NULL THEN 'no @timestamp'
        WHEN in_seconds THEN '''' || ts || ''': epoch in seconds? ECS @timestamp epochs are milliseconds'
        WHEN NOT epoch AND NOT contains(ts, ':') AND isfinite(TRY_CAST(ts AS DATE))
            THEN '''' || left(ts, 100) || ''' is a date without a time of day: an alert needs the time it fired'
        WHEN NOT epoch AND NOT contains(ts, ':') THEN '''' || left(ts, 100) || ''' is not an ISO 8601 time or epoch milliseconds'
        WHEN NOT epoch AND NOT zoned AND bad_utc_offset(ts) THEN '''' || left(ts, 100) || ''' has a UTC offset past 23:59'
        WHEN NOT epoch AND NOT zoned AND source_zone IS NULL
            THEN '''' || left(ts, 100) || ''' has no UTC offset: set timezone for the source'
        WHEN seen IS NULL THEN '''' || left(ts, 100) || ''' is not an ISO 8601 time or epoch milliseconds'
    END AS problem,
    CASE
        WHEN malformed THEN NULL
        WHEN kind IS NULL THEN 'ECS document without event.kind (not an alert)'
        WHEN NOT is_alert THEN 'ECS ' || left(kind, 40) || ' document (not an alert)'
    END AS skip,
    event_id AS ref,
    seen AS observed_at,
    coalesce(vendor || ' ' || product, product, module, 'ECS') AS product,
    signature,
    rule_id AS signature_id,
    coalesce(word, CASE WHEN score >= 0 AND score < 22 THEN 'low' WHEN score >= 22 AND score < 48 THEN 'medium'
                        WHEN score >= 48 AND score < 74 THEN 'high' WHEN score >= 74 AND score <= 100 THEN 'critical'
                   END) AS severity,
    CASE WHEN word IS NOT NULL THEN sev_word ELSE coalesce(score_raw, sev_word, sev_num, risk) END AS severity_raw,
    coalesce(nullif(concat_ws(' ', tid, tname), ''), category_words) AS category_raw,
    coalesce(event_action, etype) AS action,
    src_ip, src_port, dst_ip, dst_port, dst_host, url, target_org,
    NULL::VARCHAR AS event_count,
    message
FROM timed
