-- The curated incidents CSV (ingest/formats/incidents_csv.py) checked and converted inside
-- DuckDB, run by ingest/load/checked.py. SQL stages only the rows it can vouch for: every
-- value in the form the format's pydantic model takes and the converter keeps, the same
-- values the Python path would stage. Every other row (a bad one, or a good one in a form
-- this file does not parse: a time zone to apply, an offset without a colon, a cell with
-- odd whitespace) goes to ck_python, and the loader gives it to the model, which stages it
-- or explains why not. The lookups that are Python's own rules (a country's alpha-3 code,
-- an actor's canonical name, an organisation's words) are asked once per distinct value.

/* lines */
-- The file's lines as DuckDB reads them; its rowid is the line's position (line 1: header).
CREATE OR REPLACE TEMP TABLE ck_raw AS
SELECT column0 AS raw
FROM read_csv($path, columns = {'column0': 'VARCHAR'}, delim = '\x1e', header = false, quote = '',
              escape = '', new_line = $new_line, auto_detect = false);

/* shape */
-- Whether every record is one line, as Python's reader would find them: a line with an odd
-- number of quotes may open a cell that goes on over the next lines, and a carriage return
-- left inside a line is a line break to Python; either way the careful path reads the file.
SELECT
    count(raw) FILTER (WHERE rowid > 0) AS records,
    count(*) AS lines,
    coalesce(bool_or((length(raw) - length(replace(raw, '"', ''))) % 2 = 1
                     OR contains(raw, chr(13)) OR contains(raw, chr(10))), false) AS careful
FROM ck_raw;

/* rows */
-- a cell as the model reads it: the text, NULL when blank
CREATE OR REPLACE TEMP MACRO ck_cell(x) AS CASE WHEN trim(x) = '' THEN NULL ELSE x END;
-- a stripped `;` list as the model reads it: its items stripped, a blank one NULL
CREATE OR REPLACE TEMP MACRO ck_items(x) AS
    CASE WHEN x IS NULL THEN []::VARCHAR[] WHEN NOT contains(x, ';') THEN [x]
         ELSE list_transform(string_split(x, ';'), lambda i: nullif(trim(i), '')) END;
-- every item true (an empty list: none false)
CREATE OR REPLACE TEMP MACRO ck_every(bools) AS coalesce(list_bool_and(bools), true);

CREATE OR REPLACE TEMP TABLE ck_rows AS
SELECT
    line, raw, shape_ok, ref, title, description, ck_items(attack_types) AS attack_types,
    time_precision, started_text, ended_text, evidence_text, severity,
    ck_items(target_org) AS target_org, ck_items(target_domain) AS target_domain,
    ck_items(target_country) AS target_country, ck_items(target_sector) AS target_sector,
    ck_items(actor) AS actor, ck_items(actor_role) AS actor_role,
    ck_items(attributed_by) AS attributed_by, ck_items(attributed_at) AS attributed_at, url
FROM (
    SELECT
        line, raw, shape_ok AND len(f) = $width AS shape_ok,
        nullif(trim(f[$i_ref]), '') AS ref,
        nullif(trim(f[$i_title]), '') AS title,
        nullif(trim(f[$i_description]), '') AS description,
        nullif(trim(f[$i_attack_types]), '') AS attack_types,
        ck_cell(f[$i_time_precision]) AS time_precision,
        ck_cell(f[$i_started_at]) AS started_text,
        ck_cell(f[$i_ended_at]) AS ended_text,
        ck_cell(f[$i_evidence]) AS evidence_text,
        ck_cell(f[$i_severity]) AS severity,
        nullif(trim(f[$i_target_org]), '') AS target_org,
        nullif(trim(f[$i_target_domain]), '') AS target_domain,
        nullif(trim(f[$i_target_country]), '') AS target_country,
        nullif(trim(f[$i_target_sector]), '') AS target_sector,
        nullif(trim(f[$i_actor]), '') AS actor,
        nullif(trim(f[$i_actor_role]), '') AS actor_role,
        nullif(trim(f[$i_attributed_by]), '') AS attributed_by,
        nullif(trim(f[$i_attributed_at]), '') AS attributed_at,
        nullif(trim(f[$i_url]), '') AS url
    FROM (
        -- The line's cells, when it is one Python's reader and the model read as SQL does:
        -- every cell unquoted or quoted whole (inner quotes doubled), no whitespace but the
        -- space (Python strips it, DuckDB's trim does not), no NUL, not too long for Python's
        -- reader; and as many cells as the header names. Else the model sees the line. The
        -- commas inside quotes are hidden (as chr(31), which such a line cannot hold) while
        -- the line is split on the others, then put back, and each quoted cell unquoted.
        SELECT
            line, raw, shape_ok,
            CASE WHEN NOT shape_ok THEN []::VARCHAR[]
                 WHEN NOT contains(raw, '"') THEN string_split(raw, ',')
                 ELSE list_transform(
                     string_split(array_to_string(list_transform(string_split(raw, '"'),
                         lambda s, i: CASE WHEN i % 2 = 0 THEN replace(s, ',', chr(31)) ELSE s END), '"'), ','),
                     lambda p: CASE WHEN starts_with(p, '"') THEN replace(replace(p[2:-2], chr(31), ','), '""', '"')
                                    ELSE p END) END AS f
        FROM (
            SELECT rowid + 1 AS line, raw,
                   length(raw) <= 1000000 AND regexp_full_match(raw, '(?:"(?:[^"\x00\t\x0b\x0c\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]|"")*"|[^",\x00\t\x0b\x0c\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*)(?:,(?:"(?:[^"\x00\t\x0b\x0c\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]|"")*"|[^",\x00\t\x0b\x0c\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*))*') AS shape_ok
            FROM ck_raw
            WHERE rowid > 0 AND raw IS NOT NULL  -- the header; a blank line is not a record
        )
    )
);

/* times */
-- Each distinct (text, precision) once: the ISO 8601 forms analysts write most, with Z or
-- an offset like +02:00 on a time, as canon/times.py reads them. Any other form is NULL here
-- and its row goes to Python, which reads it or says why not.
CREATE OR REPLACE TEMP TABLE ck_times AS
WITH given AS (
    SELECT DISTINCT started_text AS text, time_precision AS given FROM ck_rows WHERE shape_ok
    UNION SELECT DISTINCT ended_text, NULL FROM ck_rows WHERE shape_ok AND ended_text IS NOT NULL
    UNION SELECT DISTINCT unnest(attributed_at), NULL FROM ck_rows WHERE shape_ok
), forms AS (
    SELECT text, given, trim(text) AS t,
        CASE
            WHEN regexp_full_match(trim(text), '\d{4}') THEN 'year'
            WHEN regexp_full_match(trim(text), '\d{4}-\d{2}') THEN 'month'
            WHEN regexp_full_match(trim(text), '\d{4}-\d{2}-\d{2}') THEN 'day'
            WHEN regexp_full_match(trim(text), '\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(Z|[+-]([01]\d|2[0-3]):[0-5]\d)')
                THEN 'minute'
            WHEN regexp_full_match(trim(text), '\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(Z|[+-]([01]\d|2[0-3]):[0-5]\d)')
                THEN 'second'
        END AS written
    FROM given WHERE text IS NOT NULL
), parsed AS (
    SELECT
        text, given, written, coalesce(given, written) AS chosen,
        try_strptime(
            CASE written WHEN 'year' THEN t || '-01-01T00:00:00' WHEN 'month' THEN t || '-01T00:00:00'
                         WHEN 'day' THEN t || 'T00:00:00' WHEN 'minute' THEN left(t, 16) || ':00'
                         ELSE left(t, 19) END,
            '%Y-%m-%dT%H:%M:%S') AS local,
        CASE WHEN written IN ('year', 'month', 'day') OR suffix(t, 'Z') THEN 0
             ELSE (CASE WHEN t[-6] = '-' THEN -1 ELSE 1 END) * (t[-5:-4]::INTEGER * 60 + t[-2:-1]::INTEGER)
        END AS offset_minutes
    FROM forms WHERE written IS NOT NULL
), ranked AS (
    SELECT *,
        list_position(['second', 'minute', 'hour', 'day', 'month', 'year'], chosen) AS chosen_rank,
        list_position(['second', 'minute', 'hour', 'day', 'month', 'year'], written) AS written_rank,
        date_trunc(chosen, local) AS start_local
    FROM parsed
    WHERE local IS NOT NULL AND year(local) BETWEEN 2 AND 9998
      AND chosen IN ('second', 'minute', 'hour', 'day', 'month', 'year')
)
SELECT
    text, given,
    (start_local - to_minutes(offset_minutes))::TIMESTAMPTZ AS earliest,
    (start_local + CASE chosen WHEN 'year' THEN INTERVAL 1 YEAR WHEN 'month' THEN INTERVAL 1 MONTH
                               WHEN 'day' THEN INTERVAL 1 DAY WHEN 'hour' THEN INTERVAL 1 HOUR
                               WHEN 'minute' THEN INTERVAL 1 MINUTE ELSE INTERVAL 1 SECOND END
        - to_minutes(offset_minutes))::TIMESTAMPTZ AS latest,
    chosen AS precision
FROM ranked
WHERE chosen_rank >= written_rank;

/* checked */
-- Every rule of the model and the converter that SQL can answer alone. A row passing them
-- still has its countries asked (ck_countries) before it is staged.
CREATE OR REPLACE TEMP TABLE ck_checked AS
SELECT
    r.*,
    s.earliest AS started_at, s.latest AS started_latest, s.precision AS started_precision,
    e.earliest AS ended_at, e.latest AS ended_latest, e.precision AS ended_precision,
    coalesce(r.evidence_text, 'reported') AS evidence,
    greatest(len(target_org), len(target_domain), len(target_country), len(target_sector)) AS targets_n,
    greatest(len(actor), len(actor_role), len(attributed_by), len(attributed_at)) AS actors_n,
    coalesce(r.shape_ok
        AND r.ref IS NOT NULL AND r.title IS NOT NULL
        AND len(r.attack_types) > 0
        AND ck_every(list_transform(r.attack_types, lambda x: coalesce(list_contains($attack_types, x), false)))
        AND (r.time_precision IS NULL OR list_contains($precisions, r.time_precision))
        AND s.earliest IS NOT NULL
        AND (r.ended_text IS NULL OR e.earliest IS NOT NULL)
        AND list_contains($evidence, coalesce(r.evidence_text, 'reported'))
        AND (r.severity IS NULL OR list_contains($severities, r.severity))
        AND (r.url IS NULL OR regexp_full_match(r.url, '(?i)https?://\S+'))
        AND ck_every(list_transform(r.target_domain,
                lambda x: x IS NULL OR coalesce(regexp_full_match(x, '[\x21-\x7e]+')
                                           AND regexp_full_match(rtrim(lower(x), '.'), '[^/:@\s]+\.[^/:@\s]+'), false)))
        AND ck_every(list_transform(r.target_sector, lambda x: x IS NULL OR coalesce(list_contains($sectors, x), false)))
        AND ck_every(list_transform(r.actor_role, lambda x: x IS NULL OR coalesce(list_contains($roles, x), false)))
        AND ck_every(list_transform(r.actor, lambda x: x IS NOT NULL))
        AND (actors_n = 0 OR len(r.actor) > 0)
        AND ck_every(list_transform(r.attributed_at, lambda x: x IS NOT NULL))
        AND ck_every(list_transform([len(target_org), len(target_domain), len(target_country), len(target_sector)],
                lambda n: n IN (0, 1, targets_n)))
        AND ck_every(list_transform([len(actor), len(actor_role), len(attributed_by), len(attributed_at)],
                lambda n: n IN (0, 1, actors_n))), false)
        AS row_ok
FROM ck_rows r
LEFT JOIN ck_times s ON s.text = r.started_text AND s.given IS NOT DISTINCT FROM r.time_precision
LEFT JOIN ck_times e ON e.text = r.ended_text AND e.given IS NULL;

/* countries */
-- the country items to ask Python about
SELECT DISTINCT raw FROM (SELECT unnest(target_country) AS raw FROM ck_checked WHERE row_ok) WHERE raw IS NOT NULL;

/* children */
-- One row per target and per actor, parallel lists zipped: a single item applies to all.
CREATE OR REPLACE TEMP MACRO ck_pick(items, pos) AS
    CASE len(items) WHEN 0 THEN NULL WHEN 1 THEN items[1] ELSE items[pos + 1] END;

CREATE OR REPLACE TEMP TABLE ck_targets AS
SELECT
    t.line, t.pos,
    ck_pick(t.target_org, t.pos) AS organisation,
    rtrim(lower(ck_pick(t.target_domain, t.pos)), '.') AS domain,
    ck_pick(t.target_country, t.pos) AS country_text,
    c.code AS country,
    ck_pick(t.target_sector, t.pos) AS sector
FROM (SELECT line, target_org, target_domain, target_country, target_sector, unnest(range(targets_n)) AS pos
      FROM ck_checked WHERE row_ok) t
LEFT JOIN ck_countries c ON c.raw = ck_pick(t.target_country, t.pos);

CREATE OR REPLACE TEMP TABLE ck_actor_items AS
SELECT
    a.line, a.pos,
    ck_pick(a.actor, a.pos) AS actor,
    coalesce(ck_pick(a.actor_role, a.pos),
             CASE WHEN ck_pick(a.attributed_by, a.pos) IS NOT NULL THEN 'attributed' ELSE 'suspected' END) AS role,
    ck_pick(a.attributed_by, a.pos) AS attributed_by,
    ck_pick(a.attributed_at, a.pos) AS at_text,
    w.earliest AS at_earliest, w.latest AS at_latest, w.precision AS at_precision
FROM (SELECT line, actor, actor_role, attributed_by, attributed_at, unnest(range(actors_n)) AS pos
      FROM ck_checked WHERE row_ok) a
LEFT JOIN ck_times w ON w.text = ck_pick(a.attributed_at, a.pos) AND w.given IS NULL;

-- rows Python must see: a country that is not one, an attribution time not read here
CREATE OR REPLACE TEMP TABLE ck_python AS
SELECT line, raw FROM ck_checked
WHERE NOT row_ok
   OR line IN (SELECT line FROM ck_targets WHERE country_text IS NOT NULL AND country IS NULL)
   OR line IN (SELECT line FROM ck_actor_items WHERE at_text IS NOT NULL AND at_earliest IS NULL);

/* names */
-- the actor names and organisations to ask Python about
SELECT DISTINCT actor FROM ck_actor_items WHERE line NOT IN (SELECT line FROM ck_python);
SELECT DISTINCT organisation, country FROM ck_targets
WHERE organisation IS NOT NULL AND line NOT IN (SELECT line FROM ck_python);

/* stage */
-- Each actor once per (canonical name, role, attributor, date) as the Python path keeps
-- them: the first item's own spelling, at the place of the last.
CREATE OR REPLACE TEMP TABLE ck_actors AS
SELECT
    a.line,
    (row_number() OVER (PARTITION BY a.line ORDER BY max(a.pos)) - 1)::INTEGER AS position,
    n.canonical AS actor,
    a.role,
    a.attributed_by,
    a.at_earliest AS attributed_at,
    a.at_latest AS attributed_latest,
    a.at_precision AS attributed_precision,
    CASE WHEN n.canonical <> first(a.actor ORDER BY a.pos) THEN first(a.actor ORDER BY a.pos) END AS actor_raw
FROM ck_actor_items a
JOIN ck_actor_names n ON n.actor = a.actor
WHERE a.line NOT IN (SELECT line FROM ck_python)
GROUP BY a.line, n.canonical, a.role, a.attributed_by, a.at_earliest, a.at_latest, a.at_precision;

INSERT INTO stage_targets
SELECT
    t.line, t.pos::INTEGER, t.organisation, t.domain, t.country, t.sector, NULL,
    CASE WHEN t.sector IS NULL THEN []::VARCHAR[] ELSE [t.sector] END, []::VARCHAR[],
    w.name_words
FROM ck_targets t
LEFT JOIN ck_words w ON w.organisation = t.organisation AND w.country IS NOT DISTINCT FROM t.country
WHERE t.line NOT IN (SELECT line FROM ck_python);

INSERT INTO stage_actors
SELECT
    line, position, actor, role, attributed_by, attributed_at, attributed_latest, attributed_precision,
    NULL, NULL, NULL, NULL, CASE WHEN attributed_at IS NOT NULL THEN 'on' END, actor_raw
FROM ck_actors;

-- A digest of everything the record says, its targets and actors included: the record's
-- values apart by chr(31) (NULL as chr(30); no row SQL stages holds either), with the sum
-- of its targets' and actors' digests (md5, stable across DuckDB versions), each with its
-- position (a change of order is a change).
CREATE OR REPLACE TEMP MACRO ck_said(x) AS coalesce(x::VARCHAR, chr(30));
INSERT INTO stage_main
WITH targets AS (
    SELECT line, sum(md5_number_lower(concat_ws(chr(31), pos, ck_said(organisation), ck_said(domain), ck_said(country),
                                                ck_said(sector)))::HUGEINT) AS said
    FROM ck_targets WHERE line NOT IN (SELECT line FROM ck_python) GROUP BY line
), actors AS (
    SELECT line, sum(md5_number_lower(concat_ws(chr(31), position, ck_said(actor), ck_said(role), ck_said(attributed_by),
                                                ck_said(attributed_at), ck_said(attributed_latest),
                                                ck_said(attributed_precision), ck_said(actor_raw)))::HUGEINT) AS said
    FROM ck_actors GROUP BY line
)
SELECT
    c.line AS seq, c.line, NULL,
    c.ref, c.title, c.description, c.attack_types,
    c.started_at, c.started_latest, c.started_precision,
    c.ended_at, c.ended_latest, c.ended_precision,
    c.evidence, c.severity, c.url, NULL, NULL, []::VARCHAR[],
    md5(concat_ws(chr(28),
        concat_ws(chr(31), c.ref, c.title, ck_said(c.description), array_to_string(c.attack_types, chr(29)),
                  c.started_at::VARCHAR, c.started_latest::VARCHAR, c.started_precision, ck_said(c.ended_at),
                  ck_said(c.ended_latest), ck_said(c.ended_precision), c.evidence, ck_said(c.severity), ck_said(c.url)),
        ck_said(t.said), ck_said(a.said)))
FROM ck_checked c
LEFT JOIN targets t USING (line)
LEFT JOIN actors a USING (line)
WHERE c.line NOT IN (SELECT line FROM ck_python);

/* done */
DROP TABLE IF EXISTS ck_raw;
DROP TABLE IF EXISTS ck_rows;
DROP TABLE IF EXISTS ck_times;
DROP TABLE IF EXISTS ck_checked;
DROP TABLE IF EXISTS ck_targets;
DROP TABLE IF EXISTS ck_actor_items;
DROP TABLE IF EXISTS ck_actors;
DROP TABLE IF EXISTS ck_python;
