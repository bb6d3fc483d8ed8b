-- The curated incidents CSV (ingest/formats/incidents_csv.py) checked and converted inside
-- DuckDB, run by ingest/load/checked.py after sql/checked_csv.sql's lines and cells (and its
-- times after `rows`). SQL stages only the rows it can vouch for: every
-- value in the form the format's pydantic model takes and the converter keeps, the same
-- values the Python path would stage. Every other row (a bad one, or a good one in a form
-- this file does not parse: a time zone to apply, an offset without a colon, a cell with
-- odd whitespace) goes to ck_python, and the loader gives it to the model, which stages it
-- or explains why not. The lookups that are Python's own rules (a country's alpha-3 code,
-- an actor's canonical name, an organisation's words) are asked once per distinct value.

/* rows */
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
        nullif(trim(f[$i_ref::INTEGER]::VARCHAR), '') AS ref,
        nullif(trim(f[$i_title::INTEGER]::VARCHAR), '') AS title,
        nullif(trim(f[$i_description::INTEGER]::VARCHAR), '') AS description,
        nullif(trim(f[$i_attack_types::INTEGER]::VARCHAR), '') AS attack_types,
        ck_cell(f[$i_time_precision::INTEGER]::VARCHAR) AS time_precision,
        ck_cell(f[$i_started_at::INTEGER]::VARCHAR) AS started_text,
        ck_cell(f[$i_ended_at::INTEGER]::VARCHAR) AS ended_text,
        ck_cell(f[$i_evidence::INTEGER]::VARCHAR) AS evidence_text,
        ck_cell(f[$i_severity::INTEGER]::VARCHAR) AS severity,
        nullif(trim(f[$i_target_org::INTEGER]::VARCHAR), '') AS target_org,
        nullif(trim(f[$i_target_domain::INTEGER]::VARCHAR), '') AS target_domain,
        nullif(trim(f[$i_target_country::INTEGER]::VARCHAR), '') AS target_country,
        nullif(trim(f[$i_target_sector::INTEGER]::VARCHAR), '') AS target_sector,
        nullif(trim(f[$i_actor::INTEGER]::VARCHAR), '') AS actor,
        nullif(trim(f[$i_actor_role::INTEGER]::VARCHAR), '') AS actor_role,
        nullif(trim(f[$i_attributed_by::INTEGER]::VARCHAR), '') AS attributed_by,
        nullif(trim(f[$i_attributed_at::INTEGER]::VARCHAR), '') AS attributed_at,
        nullif(trim(f[$i_url::INTEGER]::VARCHAR), '') AS url
    FROM ck_cells
);

-- the times to read: each start with its precision, each end and attribution date
CREATE OR REPLACE TEMP TABLE ck_time_texts AS
SELECT started_text AS text, time_precision AS given FROM ck_rows WHERE shape_ok
UNION SELECT ended_text, NULL FROM ck_rows WHERE shape_ok AND ended_text IS NOT NULL
UNION SELECT unnest(attributed_at), NULL FROM ck_rows WHERE shape_ok;

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
        AND ck_every(list_transform(r.attack_types, lambda x: coalesce(list_contains($attack_type, x), false)))
        AND (r.time_precision IS NULL OR list_contains($time_precision, r.time_precision))
        AND s.earliest IS NOT NULL
        AND (r.ended_text IS NULL OR e.earliest IS NOT NULL)
        AND list_contains($evidence, coalesce(r.evidence_text, 'reported'))
        AND (r.severity IS NULL OR list_contains($severity, r.severity))
        AND (r.url IS NULL OR regexp_full_match(r.url, '(?i)https?://\S+'))
        AND ck_every(list_transform(r.target_domain,
                lambda x: x IS NULL OR coalesce(regexp_full_match(x, '[\x21-\x7e]+')
                                           AND regexp_full_match(rtrim(lower(x), '.'), '[^/:@\s]+\.[^/:@\s]+'), false)))
        AND ck_every(list_transform(r.target_sector, lambda x: x IS NULL OR coalesce(list_contains($sector, x), false)))
        AND ck_every(list_transform(r.actor_role, lambda x: x IS NULL OR coalesce(list_contains($actor_role, x), false)))
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

/* lookup countries */
-- the country items to ask Python about (ck_countries: raw, code)
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

/* lookup actor names */
-- the actor names to ask Python about (ck_actor_names: actor, canonical)
SELECT DISTINCT actor FROM ck_actor_items WHERE line NOT IN (SELECT line FROM ck_python);

/* lookup org words */
-- the organisations to ask Python about (ck_org_words: organisation, country, name_words)
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
LEFT JOIN ck_org_words w ON w.organisation = t.organisation AND w.country IS NOT DISTINCT FROM t.country
WHERE t.line NOT IN (SELECT line FROM ck_python);

INSERT INTO stage_actors
SELECT
    line, position, actor, role, attributed_by, attributed_at, attributed_latest, attributed_precision,
    NULL, NULL, NULL, NULL, CASE WHEN attributed_at IS NOT NULL THEN 'on' END, actor_raw
FROM ck_actors;

-- A digest of everything the record says, its targets and actors included: the record's
-- values apart by chr(31), with the sum of its targets' and actors' digests (md5, stable
-- across DuckDB versions), each with its position (a change of order is a change).
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
DROP TABLE IF EXISTS ck_rows;
DROP TABLE IF EXISTS ck_countries;
DROP TABLE IF EXISTS ck_actor_names;
DROP TABLE IF EXISTS ck_org_words;
DROP TABLE IF EXISTS ck_checked;
DROP TABLE IF EXISTS ck_targets;
DROP TABLE IF EXISTS ck_actor_items;
DROP TABLE IF EXISTS ck_actors;
DROP TABLE IF EXISTS ck_python;
