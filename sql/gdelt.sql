-- GDELT event exports staged inside DuckDB, run by ingest/load/staging.py for
-- ingest/formats/gdelt.py. Fields are taken by position (f[27]), by layout: 61 columns (GDELT
-- 2.0), 58 (1.0 daily, without the three *Geo_ADM2Code columns) or 57 (1.0 historical, no
-- SOURCEURL). Values are bound $parameters: the file's lines ($path, $compression) and the
-- source's filter. Every line is accounted for: staged, rejected with its field and reason,
-- counted as a header, or counted as outside the source's filter.

/* stage */
-- Read in file order: the table's rowid is then the line's position (a window function
-- numbering the lines would force a single thread).
CREATE OR REPLACE TEMP TABLE gd_raw AS
SELECT CASE WHEN suffix(column0, chr(13)) THEN left(column0, -1) ELSE column0 END AS raw  -- CRLF; rtrim() is 3x slower
FROM read_csv($path, columns = {'column0': 'VARCHAR'}, delim = '\x1e', header = false, quote = '',
              escape = '', new_line = '\n', auto_detect = false, compression = $compression);

-- One pass over the lines: split on tabs (never quoted), take the fields by position, type
-- them, name the first field that breaks a rule and why, and build the event the line
-- describes. Only a bad line keeps its raw text.
CREATE OR REPLACE TEMP TABLE stage_lines AS
WITH named AS (
    SELECT
        line, raw, len(f) AS width,
        -- by position in a GDELT 2.0 row (FORMATS.md 1.2); a 1.0 row lacks columns 40, 48 and 56
        nullif(f[1], '') AS event_id,  -- GLOBALEVENTID
        nullif(f[2], '') AS sqldate,
        nullif(f[6], '') AS actor1_code,
        nullif(f[7], '') AS actor1_name,
        nullif(f[8], '') AS actor1_country,
        nullif(f[13], '') AS actor1_type,  -- Actor1Type1Code
        nullif(f[16], '') AS actor2_code,
        nullif(f[17], '') AS actor2_name,
        nullif(f[18], '') AS actor2_country,
        nullif(f[23], '') AS actor2_type,
        nullif(f[27], '') AS event_code,
        nullif(f[28], '') AS event_base,
        nullif(f[30], '') AS quad_class,
        nullif(f[31], '') AS goldstein,
        nullif(f[32], '') AS num_mentions,
        nullif(f[33], '') AS num_sources,
        nullif(f[34], '') AS num_articles,
        nullif(f[35], '') AS avg_tone,
        nullif(CASE WHEN len(f) = 61 THEN f[53] ELSE f[51] END, '') AS action_place,  -- ActionGeo_FullName
        nullif(CASE WHEN len(f) = 61 THEN f[54] ELSE f[52] END, '') AS action_country,  -- FIPS 10-4
        nullif(CASE WHEN len(f) = 61 THEN f[57] ELSE f[54] END, '') AS lat,
        nullif(CASE WHEN len(f) = 61 THEN f[58] ELSE f[55] END, '') AS long,
        nullif(CASE WHEN len(f) = 61 THEN f[60] ELSE f[57] END, '') AS dateadded,
        nullif(CASE len(f) WHEN 61 THEN f[61] WHEN 58 THEN f[58] END, '') AS source_url
    FROM (SELECT rowid + 1 AS line, raw, string_split(raw, chr(9)) AS f FROM gd_raw WHERE raw <> '')
), typed AS (
    SELECT
        *,
        TRY_CAST(event_id AS UBIGINT) AS event_number,
        try_strptime(sqldate, '%Y%m%d') AS day,
        CASE WHEN width = 61 THEN try_strptime(dateadded, '%Y%m%d%H%M%S')
             ELSE try_strptime(dateadded, '%Y%m%d') END AS added,
        CASE WHEN width = 61 THEN try_strptime(dateadded, '%Y%m%d%H%M%S')
             ELSE try_strptime(dateadded, '%Y%m%d') + INTERVAL 1 DAY END::TIMESTAMPTZ AS bound,
        TRY_CAST(quad_class AS TINYINT) AS quad,
        TRY_CAST(goldstein AS DOUBLE) AS score,
        TRY_CAST(num_mentions AS INTEGER) AS n_mentions,
        TRY_CAST(num_sources AS INTEGER) AS n_sources,
        TRY_CAST(num_articles AS INTEGER) AS n_articles,
        TRY_CAST(avg_tone AS DOUBLE) AS avg,
        TRY_CAST(lat AS DOUBLE) AS latitude,
        TRY_CAST(long AS DOUBLE) AS longitude
    FROM named
), checked AS (
    SELECT
        *,
        CASE
            WHEN width NOT IN (61, 58, 57) THEN '(record)'
            WHEN contains(raw, chr(0)) THEN '(record)'  -- a NUL in a field: binary, not text
            WHEN event_number IS NULL THEN 'GLOBALEVENTID'
            WHEN day IS NULL THEN 'SQLDATE'
            WHEN NOT regexp_full_match(coalesce(event_code, ''), '(0[1-9]|1[0-9]|20)[0-9]{0,2}') THEN 'EventCode'
            WHEN quad IS NULL OR quad NOT BETWEEN 1 AND 4 THEN 'QuadClass'
            WHEN score IS NULL OR score NOT BETWEEN -10 AND 10 THEN 'GoldsteinScale'
            WHEN n_mentions IS NULL OR n_mentions < 0 THEN 'NumMentions'
            WHEN n_sources IS NULL OR n_sources < 0 THEN 'NumSources'
            WHEN n_articles IS NULL OR n_articles < 0 THEN 'NumArticles'
            WHEN avg IS NULL THEN 'AvgTone'
            WHEN lat IS NOT NULL AND (latitude IS NULL OR latitude NOT BETWEEN -90 AND 90) THEN 'ActionGeo_Lat'
            WHEN long IS NOT NULL AND (longitude IS NULL OR longitude NOT BETWEEN -180 AND 180) THEN 'ActionGeo_Long'
            WHEN added IS NULL THEN 'DATEADDED'
        END AS bad_field
    FROM typed
), events AS (
    SELECT
        g.line AS seq, g.line, NULL AS pointer,
        g.bad_field,
        CASE g.bad_field
            WHEN '(record)' THEN CASE WHEN g.width IN (61, 58, 57)
                THEN 'contains a NUL byte: binary data, or a UTF-16 file without a BOM?'
                ELSE 'expected 61 tab-separated fields (GDELT 2.0) or 58 or 57 (GDELT 1.0), found ' || g.width END
            WHEN 'SQLDATE' THEN '''' || coalesce(g.sqldate, '') || ''' is not a date written YYYYMMDD'
            WHEN 'EventCode' THEN '''' || coalesce(g.event_code, '')
                || ''' is not a CAMEO event code: 2 to 4 digits with a root 01-20 (leading zeros kept)'
            WHEN 'DATEADDED' THEN '''' || coalesce(g.dateadded, '') || ''' is not a time written '
                || CASE WHEN g.width = 61 THEN 'YYYYMMDDHHMMSS (GDELT 2.0)' ELSE 'YYYYMMDD (GDELT 1.0)' END
            WHEN 'QuadClass' THEN '''' || coalesce(g.quad_class, '') || ''' is not a QuadClass: 1, 2, 3 or 4'
            WHEN 'GoldsteinScale' THEN '''' || coalesce(g.goldstein, '') || ''' is not a Goldstein score between -10 and 10'
            ELSE '''' || coalesce(CASE g.bad_field WHEN 'GLOBALEVENTID' THEN g.event_id WHEN 'NumMentions' THEN g.num_mentions
                                                   WHEN 'NumSources' THEN g.num_sources WHEN 'NumArticles' THEN g.num_articles
                                                   WHEN 'AvgTone' THEN g.avg_tone WHEN 'ActionGeo_Lat' THEN g.lat
                                                   ELSE g.long END, '') || ''''
                || CASE WHEN g.bad_field IN ('GLOBALEVENTID', 'NumMentions', 'NumSources', 'NumArticles')
                        THEN ' is not a whole number' ELSE ' is not a number in range' END
        END AS reason,
        CASE WHEN g.bad_field IS NOT NULL THEN g.raw END AS raw,
        -- a header names its columns: a first line of NUL bytes or noise is a reject, not a header
        g.line = 1 AND g.bad_field IS NOT NULL AND g.width > 1
            AND regexp_full_match(coalesce(g.event_id, ''), '[A-Za-z][A-Za-z0-9_ ]*') AS header,
        g.event_number::VARCHAR AS source_ref,
        -- the day SQLDATE names, ended early by DATEADDED: the event was in the news by then
        -- (GDELT 2.0 stamps the 15-minute batch; 1.0 gives the day, so the bound is its end).
        -- A DATEADDED before the day began is the sources disagreeing: the day is kept whole
        g.day::TIMESTAMPTZ AS occurred_at,
        CASE WHEN g.bound > g.day::TIMESTAMPTZ THEN least(g.day::TIMESTAMPTZ + INTERVAL 1 DAY, g.bound)
             ELSE g.day::TIMESTAMPTZ + INTERVAL 1 DAY END AS occurred_latest,
        'day' AS time_precision,
        concat_ws(': ', g.actor1_name, coalesce(c.label, 'CAMEO ' || g.event_code), g.actor2_name) AS title,
        coalesce(c.event_class, b.event_class, r.event_class, 'other') AS event_class,
        g.event_code AS cameo_code,
        list_sort(list_distinct([x FOR x IN [a1.alpha3, a2.alpha3] IF x IS NOT NULL])) AS actor_countries,
        g.action_place AS location,
        g.source_url AS url,
        NULL AS description,
        g.actor1_name AS actor1, g.actor1_code, a1.alpha3 AS actor1_country, g.actor1_type AS actor1_role,
        g.actor2_name AS actor2, g.actor2_code, a2.alpha3 AS actor2_country, g.actor2_type AS actor2_role,
        g.quad AS quad_class, g.score AS goldstein, g.n_mentions AS mentions, g.n_sources AS sources,
        g.n_articles AS articles, g.avg AS tone, fips.alpha3 AS location_country, g.latitude, g.longitude,
        g.added::TIMESTAMPTZ AS recorded_at,
        NULL::TIMESTAMPTZ AS source_modified,
        CASE WHEN g.bad_field IS NULL THEN hash(g.raw)::VARCHAR END AS content_hash
    FROM checked g
    LEFT JOIN cameo_codes c ON c.code = event_code
    LEFT JOIN cameo_codes b ON b.code = event_base
    LEFT JOIN cameo_codes r ON r.code = left(event_code, 2)
    LEFT JOIN gd_countries a1 ON a1.alpha3 = actor1_country
    LEFT JOIN gd_countries a2 ON a2.alpha3 = actor2_country
    LEFT JOIN gd_fips fips ON fips.fips = action_country
)
-- the source's filter, as a flag: what it leaves out is counted, not stored
SELECT
    *,
    bad_field IS NULL
        AND (len($countries) = 0 OR list_has_any(actor_countries, $countries))
        AND (len($roots) = 0 OR list_contains($roots, left(cameo_code, 2)))
        AND (len($classes) = 0 OR list_contains($classes, event_class))
        AND sources >= $min_sources
        AND mentions >= $min_mentions AS kept
FROM events;

INSERT INTO stage_rejects
SELECT line, NULL, bad_field, reason, json_array(json_object('field', bad_field, 'reason', reason))::VARCHAR, raw
FROM stage_lines
WHERE bad_field IS NOT NULL AND NOT header;

-- The merge reads the kept rows where they lie: no second copy of a day of GDELT.
DROP TABLE stage_main;

CREATE TEMP VIEW stage_main AS
SELECT * EXCLUDE (bad_field, reason, raw, header, kept) FROM stage_lines WHERE kept;

/* done */
-- Once the stage is made, or has failed: the lines as read are not needed past it.
DROP TABLE IF EXISTS gd_raw;

/* read */
SELECT count(*) FROM stage_lines;

/* skipped */
-- The lines neither staged nor rejected, by reason (in one order every run).
SELECT reason, n
FROM (
    SELECT 'header line (GDELT files have none; a copy added it)' AS reason, count(*) FILTER (WHERE header) AS n
    FROM stage_lines
    UNION ALL
    SELECT 'outside the source''s filter', count(*) FILTER (WHERE bad_field IS NULL AND NOT kept) FROM stage_lines
)
WHERE n > 0
ORDER BY reason
