-- ArcSight CEF (FORMATS.md 7.1): one event per line, perhaps behind a syslog prefix (RFC 3164
-- or 5424) that is not part of CEF: parsing starts at the first `CEF:`. The header is seven
-- '|'-separated fields (`\|` a literal pipe, `\\` a backslash), the extension space-separated
-- key=value pairs where a value runs to the next ` key=` (`\=`, `\\`, `\n`, `\r` escaped; a
-- pipe is literal). A repeated key: the first wins. Every line is an alert.
-- A table macro over the chunk's lines (tl_lines), for sql/telemetry.sql's parse; source_zone is
-- the source's declared timezone (NULL when it has none).
CREATE OR REPLACE TEMP MACRO tl_format(source_zone) AS TABLE
WITH located AS (
    SELECT line, raw, nullif(strpos(raw, 'CEF:'), 0) AS cef_at FROM tl_lines
), split AS (
    -- split on every '|': the header is the first seven pieces when none holds a '\' (then
    -- no pipe in it is escaped), which is most lines; the regular expression reads the rest
    SELECT line, raw, cef_at, CASE WHEN cef_at IS NOT NULL THEN string_split(substr(raw, cef_at), '|') END AS pieces
    FROM located
), headed AS (
    SELECT
        line, raw, cef_at,
        CASE
            WHEN len(pieces) >= 8 AND NOT contains(pieces[1] || pieces[2] || pieces[3] || pieces[4] || pieces[5] || pieces[6] || pieces[7], '\')
            THEN {'cef': 'CEF:', 'version': substr(pieces[1], 5), 'vendor': pieces[2], 'product': pieces[3],
                  'dversion': pieces[4], 'class': pieces[5], 'name': pieces[6], 'severity': pieces[7],
                  'ext': array_to_string(pieces[8:], '|')}
            ELSE regexp_extract(
                substr(raw, coalesce(cef_at, 1)),
                '(?s)^(CEF:)((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|(.*)$',
                ['cef', 'version', 'vendor', 'product', 'dversion', 'class', 'name', 'severity', 'ext'])
        END AS h
    FROM split
), header AS (
    -- header values unescaped: `\\` through a placeholder (a NUL never reaches here), then `\|`
    SELECT
        line, raw, cef_at, h.version AS version,
        -- the header's unescaped pipes (an escape `\x` taken out first), when it has too few
        CASE WHEN cef_at IS NOT NULL AND h.cef = '' THEN
            length(regexp_replace(substr(raw, cef_at), '\\.', '', 'g'))
            - length(replace(regexp_replace(substr(raw, cef_at), '\\.', '', 'g'), '|', ''))
        END AS pipes,
        nullif(CASE WHEN contains(h.vendor, '\') THEN replace(replace(replace(h.vendor, '\\', chr(0)), '\|', '|'), chr(0), '\') ELSE h.vendor END, '') AS vendor,
        nullif(CASE WHEN contains(h.product, '\') THEN replace(replace(replace(h.product, '\\', chr(0)), '\|', '|'), chr(0), '\') ELSE h.product END, '') AS dev_product,
        nullif(CASE WHEN contains(h.class, '\') THEN replace(replace(replace(h.class, '\\', chr(0)), '\|', '|'), chr(0), '\') ELSE h.class END, '') AS class_id,
        nullif(CASE WHEN contains(h.name, '\') THEN replace(replace(replace(h.name, '\\', chr(0)), '\|', '|'), chr(0), '\') ELSE h.name END, '') AS name,
        trim(CASE WHEN contains(h.severity, '\') THEN replace(replace(replace(h.severity, '\\', chr(0)), '\|', '|'), chr(0), '\') ELSE h.severity END) AS sev,
        -- the pairs: a separator is the spaces before a key (letters, digits, _ . [ ]) and its
        -- `=`; `\=` is none, since `\` is not a key character. Trailing whitespace dropped.
        string_split(
            regexp_replace(
                ' ' || CASE WHEN regexp_matches(right(h.ext, 1), '\s') THEN regexp_replace(h.ext, '\s+$', '') ELSE h.ext END,
                ' +([A-Za-z0-9_.\[\]]+)=', chr(31) || '\1=', 'g'),
            chr(31)
        ) AS parts,
        -- the pieces are split at this character: an extension holding it cannot be read
        contains(h.ext, chr(31)) AS odd_pieces,
        contains(h.ext, 'Label=') AS labels
    FROM headed
), pairs AS (
    SELECT
        * EXCLUDE (parts),
        trim(parts[1]) AS junk,
        list_transform(parts[2:], lambda p: split_part(p, '=', 1)) AS keys,
        list_transform(parts[2:], lambda p: CASE WHEN contains(p, '\') THEN replace(replace(replace(replace(replace(
                substr(p, strpos(p, '=') + 1), '\\', chr(0)), '\=', '='), '\n', chr(10)), '\r', chr(13)), chr(0), '\')
                ELSE substr(p, strpos(p, '=') + 1) END) AS vals
    FROM header
), fields AS (
    SELECT
        *,
        nullif(vals[list_position(keys, 'rt')], '') AS rt,
        nullif(vals[list_position(keys, 'end')], '') AS "end",
        nullif(vals[list_position(keys, 'start')], '') AS "start",
        nullif(vals[list_position(keys, 'src')], '') AS src,
        nullif(vals[list_position(keys, 'c6a2')], '') AS c6a2,
        nullif(vals[list_position(keys, 'spt')], '') AS spt,
        nullif(vals[list_position(keys, 'dst')], '') AS dst,
        nullif(vals[list_position(keys, 'c6a3')], '') AS c6a3,
        nullif(vals[list_position(keys, 'dpt')], '') AS dpt,
        nullif(vals[list_position(keys, 'dhost')], '') AS dhost,
        nullif(vals[list_position(keys, 'request')], '') AS request,
        nullif(vals[list_position(keys, 'cat')], '') AS cat,
        nullif(vals[list_position(keys, 'act')], '') AS act,
        nullif(vals[list_position(keys, 'cnt')], '') AS cnt,
        nullif(vals[list_position(keys, 'msg')], '') AS msg,
        -- the custom string slot (cs1..) whose label names the target organisation
        CASE WHEN labels THEN keys[list_position(list_transform(keys, lambda k, i: regexp_matches(k, '^cs[0-9]+Label$')
            AND lower(trim(vals[i])) IN ('targetorg', 'target_org', 'targetorganization')), true)] END AS org_label
    FROM pairs
), timed AS (
    SELECT
        *,
        -- epoch milliseconds, what most devices write, are not read as the other forms
        CASE WHEN digits THEN {'mon': '', 'day': '', 'year': '', 'hms': '', 'zone': ''} ELSE regexp_extract(t,
            '^([A-Za-z]{3}) +([0-9]{1,2}) +([0-9]{4}) +([0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,3})?)(?: +(\S+))?$',
            ['mon', 'day', 'year', 'hms', 'zone']) END AS d,
        CASE WHEN digits THEN false ELSE regexp_matches(t,
            '^([A-Za-z]{3}) +([0-9]{1,2}) +([0-9]{4}) +([0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,3})?)(?: +(\S+))?$') END AS dated,
        -- not in the CEF spec, but some devices write ISO 8601
        CASE WHEN digits THEN false ELSE regexp_matches(t, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}') END AS iso,
        CASE WHEN digits THEN false ELSE has_utc_offset(t) END AS iso_zoned
    FROM (SELECT *, coalesce(rt, "end", "start") AS t, regexp_matches(t, '^[0-9]+$') AS digits FROM fields)
), zoned AS (
    -- A zone is resolved when it says one thing only: an offset, an abbreviation that names
    -- one offset (CET is +01:00 and CEST +02:00 whatever the date), MSK (Moscow's clock, whose
    -- offset changed over the years) or a tz database name (Europe/Kyiv). Ambiguous ones (IST,
    -- BST, CST ...) take the source's timezone, like a time without a zone.
    SELECT
        *,
        try_strptime(d.mon || ' ' || d.day || ' ' || d.year || ' ' || d.hms, ['%b %d %Y %H:%M:%S.%g', '%b %d %Y %H:%M:%S'])
            AS local_time,
        CASE
            WHEN upper(d.zone) IN ('UTC', 'GMT', 'Z', 'WET') THEN '+00:00'
            WHEN upper(d.zone) IN ('WEST', 'CET', 'MET') THEN '+01:00'
            WHEN upper(d.zone) IN ('CEST', 'MEST', 'EET') THEN '+02:00'
            WHEN upper(d.zone) = 'EEST' THEN '+03:00'
            WHEN upper(d.zone) IN ('JST', 'KST') THEN '+09:00'
            WHEN upper(d.zone) = 'HST' THEN '-10:00'
            WHEN upper(d.zone) = 'AKST' THEN '-09:00'
            WHEN upper(d.zone) IN ('PST', 'AKDT') THEN '-08:00'
            WHEN upper(d.zone) IN ('MST', 'PDT') THEN '-07:00'
            WHEN upper(d.zone) = 'MDT' THEN '-06:00'
            WHEN upper(d.zone) = 'EST' THEN '-05:00'
            WHEN upper(d.zone) = 'EDT' THEN '-04:00'
            WHEN regexp_matches(d.zone, '^[+-]([01][0-9]|2[0-3])$') THEN d.zone || ':00'
            WHEN regexp_matches(d.zone, '^[+-]([01][0-9]|2[0-3]):?[0-5][0-9]$') THEN substr(d.zone, 1, 3) || ':' || right(d.zone, 2)
        END AS utc_offset,
        CASE
            WHEN upper(d.zone) = 'MSK' THEN 'Europe/Moscow'
            WHEN contains(d.zone, '/') AND list_contains((SELECT list(name) FROM pg_timezone_names()), d.zone) THEN d.zone
        END AS zone_name
    FROM timed
), clocked AS (
    SELECT
        *,
        CASE
            WHEN digits AND length(t) BETWEEN 12 AND 14 THEN timezone('UTC', epoch_ms(TRY_CAST(t AS BIGINT)))
            WHEN iso AND iso_zoned THEN TRY_CAST(t AS TIMESTAMPTZ)
            WHEN iso AND source_zone IS NOT NULL AND NOT bad_utc_offset(t) THEN timezone(source_zone, TRY_CAST(t AS TIMESTAMP))
            WHEN NOT dated OR local_time IS NULL THEN NULL
            WHEN d.zone <> '' AND utc_offset IS NOT NULL
                THEN TRY_CAST(strftime(local_time, '%Y-%m-%d %H:%M:%S.%f') || utc_offset AS TIMESTAMPTZ)
            WHEN starts_with(d.zone, '+') OR starts_with(d.zone, '-') THEN NULL  -- an offset past 23:59
            WHEN zone_name IS NOT NULL THEN timezone(zone_name, local_time)
            WHEN source_zone IS NOT NULL THEN timezone(source_zone, local_time)
        END AS at_time
    FROM zoned
)
SELECT
    line, raw,
    CASE
        WHEN cef_at IS NULL OR pipes < 7 THEN '(record)'
        WHEN version NOT IN ('0', '1') THEN 'Version'
        WHEN sev IS NULL OR NOT (regexp_matches(sev, '^[0-9]{1,2}$') AND TRY_CAST(sev AS INTEGER) <= 10
            OR lower(sev) IN ('low', 'medium', 'high', 'very-high', 'unknown')) THEN 'Severity'
        WHEN junk <> '' OR odd_pieces THEN '(record)'
        WHEN t IS NULL OR at_time IS NULL THEN 'rt'
    END AS problem_field,
    CASE
        WHEN cef_at IS NULL THEN 'no CEF: header (a CEF line is [syslog prefix] CEF:Version|Vendor|Product|...)'
        WHEN pipes < 7 THEN 'CEF header has ' || pipes || ' of the 7 unescaped ''|'' it needs '
            || '(CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension)'
        WHEN version NOT IN ('0', '1') THEN 'CEF version ''' || version || ''' is not 0 or 1'
        WHEN sev IS NULL OR NOT (regexp_matches(sev, '^[0-9]{1,2}$') AND TRY_CAST(sev AS INTEGER) <= 10
            OR lower(sev) IN ('low', 'medium', 'high', 'very-high', 'unknown'))
            THEN '''' || coalesce(sev, '') || ''' is not a CEF severity (0-10, Low, Medium, High, Very-High or Unknown)'
        WHEN junk <> '' THEN 'extension starts with ''' || left(junk, 40) || ''', not key=value'
        WHEN odd_pieces THEN 'the extension holds the control character U+001F, which cyberlog cannot read in a CEF extension'
        WHEN t IS NULL THEN 'no time (rt, start or end)'
        WHEN at_time IS NOT NULL THEN NULL
        WHEN digits AND length(t) = 10 THEN '''' || left(t, 60) || ''' looks like an epoch in seconds? CEF rt is milliseconds'
        WHEN regexp_matches(t, '^[A-Za-z]{3} +[0-9]{1,2} +[0-9]{1,2}:[0-9]{2}:[0-9]{2}')
            THEN '''' || left(t, 60) || ''' has no year: cyberlog does not guess one'
        WHEN iso AND bad_utc_offset(t) THEN '''' || left(t, 60) || ''' has a UTC offset past 23:59'
        WHEN iso AND NOT iso_zoned AND source_zone IS NULL
            THEN '''' || left(t, 60) || ''' has no time zone: set timezone for the source'
        WHEN iso THEN '''' || left(t, 60) || ''' is not a valid date and time'
        WHEN NOT dated
            THEN '''' || left(t, 60) || ''' is not epoch milliseconds, MMM dd yyyy HH:mm:ss[.SSS][ zone] or ISO 8601'
        WHEN local_time IS NULL THEN '''' || left(t, 60) || ''' is not a valid date and time'
        WHEN starts_with(d.zone, '+') OR starts_with(d.zone, '-') THEN '''' || left(t, 60) || ''' has a UTC offset past 23:59'
        WHEN source_zone IS NULL AND d.zone = ''
            THEN '''' || left(t, 60) || ''' has no time zone: set timezone for the source'
        WHEN source_zone IS NULL AND regexp_matches(d.zone, '^[A-Za-z]{2,5}$')
            THEN '''' || left(t, 60) || ''' names the zone ' || d.zone || ', which can mean more than one offset: set timezone for the source'
        WHEN source_zone IS NULL
            THEN '''' || left(t, 60) || ''' names the zone ' || d.zone || ', which is not in the tz database: set timezone for the source'
        ELSE '''' || left(t, 60) || ''' is not a valid time'
    END AS problem,
    NULL::VARCHAR AS skip,
    NULL::VARCHAR AS ref,  -- CEF has no id: the line's digest and how many times it came before
    at_time AS observed_at,
    concat_ws(' ', vendor, dev_product) AS product,
    name AS signature,
    class_id AS signature_id,
    CASE
        WHEN regexp_matches(sev, '^[0-9]{1,2}$') THEN
            CASE WHEN TRY_CAST(sev AS INTEGER) <= 3 THEN 'low' WHEN TRY_CAST(sev AS INTEGER) <= 6 THEN 'medium'
                 WHEN TRY_CAST(sev AS INTEGER) <= 8 THEN 'high' WHEN TRY_CAST(sev AS INTEGER) <= 10 THEN 'critical' END
        ELSE CASE lower(sev) WHEN 'low' THEN 'low' WHEN 'medium' THEN 'medium' WHEN 'high' THEN 'high'
                             WHEN 'very-high' THEN 'critical' END
    END AS severity,
    sev AS severity_raw,
    coalesce(cat, name) AS category_raw,
    act AS action,
    coalesce(src, c6a2) AS src_ip, spt AS src_port,
    coalesce(dst, c6a3) AS dst_ip, dpt AS dst_port,
    coalesce(dhost, nullif(regexp_extract(request, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?(\[[^\]/]*\]|[^:/?#]*)', 1), ''))
        AS dst_host,
    request AS url,
    CASE WHEN org_label IS NOT NULL THEN
        nullif(trim(vals[list_position(keys, replace(org_label, 'Label', ''))]), '')
    END AS target_org,
    cnt AS event_count,
    msg AS message
FROM clocked
