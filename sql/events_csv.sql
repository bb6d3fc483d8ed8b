-- The curated diplomatic-events CSV (ingest/formats/events_csv.py) checked and converted
-- inside DuckDB, run by ingest/load/checked.py after sql/checked_csv.sql's lines and cells
-- (and its times after `rows`). SQL stages only the rows it can vouch for, with the values
-- the model and converter would give them; every other row goes to ck_python, and the model
-- stages it or explains why not. A country's alpha-3 code and a CAMEO code's class are
-- Python's rules, asked once per distinct value.

/* rows */
CREATE OR REPLACE TEMP TABLE ck_rows AS
SELECT
    line, raw, shape_ok, ref, time_precision, occurred_text, title, event_class, cameo_code,
    ck_items(actor_countries) AS actor_countries, location, url, description
FROM (
    SELECT
        line, raw, shape_ok AND len(f) = $width AS shape_ok,
        nullif(trim(f[$i_ref::INTEGER]::VARCHAR), '') AS ref,
        ck_cell(f[$i_time_precision::INTEGER]::VARCHAR) AS time_precision,
        ck_cell(f[$i_occurred_at::INTEGER]::VARCHAR) AS occurred_text,
        nullif(trim(f[$i_title::INTEGER]::VARCHAR), '') AS title,
        nullif(trim(f[$i_event_class::INTEGER]::VARCHAR), '') AS event_class,
        nullif(trim(f[$i_cameo_code::INTEGER]::VARCHAR), '') AS cameo_code,
        nullif(trim(f[$i_actor_countries::INTEGER]::VARCHAR), '') AS actor_countries,
        nullif(trim(f[$i_location::INTEGER]::VARCHAR), '') AS location,
        nullif(trim(f[$i_url::INTEGER]::VARCHAR), '') AS url,
        nullif(trim(f[$i_description::INTEGER]::VARCHAR), '') AS description
    FROM ck_cells
);

-- the times to read: each event's, with its precision
CREATE OR REPLACE TEMP TABLE ck_time_texts AS
SELECT occurred_text AS text, time_precision AS given FROM ck_rows WHERE shape_ok;

/* checked */
-- Every rule of the model and the converter that SQL can answer alone; the countries and
-- CAMEO codes are asked of Python next.
CREATE OR REPLACE TEMP TABLE ck_checked AS
SELECT
    r.*,
    t.earliest AS occurred_at, t.latest AS occurred_latest, t.precision AS occurred_precision,
    coalesce(r.shape_ok
        AND r.ref IS NOT NULL AND r.title IS NOT NULL
        AND (r.time_precision IS NULL OR list_contains($time_precision, r.time_precision))
        AND t.earliest IS NOT NULL
        AND (r.event_class IS NULL OR list_contains($event_class, r.event_class))
        AND ck_every(list_transform(r.actor_countries, lambda x: x IS NOT NULL))
        AND (r.url IS NULL OR regexp_full_match(r.url, '(?i)https?://\S+')), false)
        AS row_ok
FROM ck_rows r
LEFT JOIN ck_times t ON t.text = r.occurred_text AND t.given IS NOT DISTINCT FROM r.time_precision;

/* lookup countries */
-- the country items to ask Python about (ck_countries: raw, code)
SELECT DISTINCT raw FROM (SELECT unnest(actor_countries) AS raw FROM ck_checked WHERE row_ok) WHERE raw IS NOT NULL;

/* lookup cameo codes */
-- the CAMEO codes to ask Python about (ck_cameo_codes: code, checked, event_class)
SELECT DISTINCT cameo_code FROM ck_checked WHERE row_ok AND cameo_code IS NOT NULL;

/* stage */
-- Each row's countries in its order, as alpha-3 codes; a row with one that is not a country,
-- or a CAMEO code that is not one, goes to Python.
CREATE OR REPLACE TEMP TABLE ck_countries_of AS
SELECT c.line, list(k.code ORDER BY c.pos) AS codes, bool_or(k.code IS NULL) AS unknown
FROM (SELECT line, unnest(actor_countries) AS raw, generate_subscripts(actor_countries, 1) AS pos
      FROM ck_checked WHERE row_ok) c
LEFT JOIN ck_countries k USING (raw)
GROUP BY c.line;

CREATE OR REPLACE TEMP TABLE ck_python AS
SELECT line, raw FROM ck_checked
WHERE NOT row_ok
   OR line IN (SELECT line FROM ck_countries_of WHERE unknown)
   OR line IN (SELECT c.line FROM ck_checked c JOIN ck_cameo_codes k ON k.code = c.cameo_code
               WHERE c.row_ok AND k.checked IS NULL);

-- A digest of everything the record says: its values apart by chr(31), NULL as chr(30).
INSERT INTO stage_main
SELECT
    c.line AS seq, c.line, NULL,
    c.ref, c.occurred_at, c.occurred_latest, c.occurred_precision, c.title,
    coalesce(c.event_class, k.event_class, 'other') AS event_class,
    c.cameo_code, coalesce(n.codes, []::VARCHAR[]), c.location, c.url, c.description,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,  -- actor1, actor2: code, name, country, role
    NULL, NULL, NULL, NULL, NULL, NULL,  -- quad_class, goldstein, mentions, sources, articles, tone
    NULL, NULL, NULL, NULL,  -- location_country, latitude, longitude, recorded_at
    NULL, NULL, NULL, NULL,  -- fatalities best, low, high; location_precision
    NULL,  -- source_modified
    md5(concat_ws(chr(31), c.ref, c.occurred_at, c.occurred_latest, c.occurred_precision, c.title,
                  coalesce(c.event_class, k.event_class, 'other'), ck_said(c.cameo_code),
                  array_to_string(coalesce(n.codes, []::VARCHAR[]), chr(29)),
                  ck_said(c.location), ck_said(c.url), ck_said(c.description)))
FROM ck_checked c
LEFT JOIN ck_countries_of n USING (line)
LEFT JOIN ck_cameo_codes k ON k.code = c.cameo_code
WHERE c.row_ok AND c.line NOT IN (SELECT line FROM ck_python);

/* done */
DROP TABLE IF EXISTS ck_rows;
DROP TABLE IF EXISTS ck_checked;
DROP TABLE IF EXISTS ck_countries;
DROP TABLE IF EXISTS ck_cameo_codes;
DROP TABLE IF EXISTS ck_countries_of;
DROP TABLE IF EXISTS ck_python;
