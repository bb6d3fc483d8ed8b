-- Cross-source identity: candidate pairs of incidents that describe the same attack.
-- Run by ingest/clusters.py after each ingest run; the statements are separated by ";\n".
--
-- Two incidents from different sources match when all of these hold:
--   * a shared target: the same domain (a leading "www." ignored), or organisation names
--     whose word sets (ingest/identity.py) share a distinctive word (not a country, not a
--     generic word such as "ministry" or "bank": $generic), name no conflicting countries
--     (the country a source states for the target, else the country words of its name),
--     and, counting the words that are not countries, either have a Jaccard similarity
--     >= $min_similarity or one holds every word of the other, which has two or more
--     (a tracker's "Ukrainian Ministry of Defense, Armed Forces of Ukraine, PrivatBank,
--     Oschadbank" holds "Ministry of Defence of Ukraine");
--   * overlapping time: their start intervals, each widened by $slack_hours on both sides,
--     overlap (date-only sources carry no zone; trackers often date a report, not the attack);
--   * compatible attack types: they share one, or either says only "other".
-- Incidents known only to a year are never matched by the rule.
-- Candidates are found with equi-joins on (key, day), so the work grows with the number
-- of incidents per day, not with the square of the store.

CREATE OR REPLACE TEMP TABLE id_incidents AS
SELECT
    incident_id, source, attack_types, started_at, started_latest,
    started_at - $slack_hours * INTERVAL 1 HOUR AS lo,
    started_latest + $slack_hours * INTERVAL 1 HOUR AS hi,
    -- this run's incidents, and those of any earlier run killed before its matching was done
    ($all OR run_id IN (SELECT run_id FROM ingest_runs WHERE identity_done_at IS NULL)) AS touched
FROM incidents
WHERE time_precision <> 'year';

CREATE OR REPLACE TEMP TABLE id_words AS
SELECT
    incident_id, position, organisation, domain, country,
    [w FOR w IN coalesce(name_words, []) IF NOT regexp_matches(w, '^[A-Z]{3}$')] AS words,
    -- the country the source states for the target; only when it states none, the country
    -- words of the name ("Ukrainian Ministry of Defence"): "border control checkpoint
    -- (Romania border)" in Ukraine is Ukraine's, whatever its name mentions
    CASE WHEN country IS NOT NULL THEN [country]
         ELSE [w FOR w IN coalesce(name_words, []) IF regexp_matches(w, '^[A-Z]{3}$')] END AS countries
FROM incident_targets
WHERE incident_id IN (SELECT incident_id FROM id_incidents);

-- Matching keys: each distinctive word (or domain) of a target, with the target's country
-- ('*' when unknown) so that targets in different countries are never paired.
CREATE OR REPLACE TEMP TABLE id_keys AS
WITH keys AS (
    SELECT incident_id, position, cc, 'w:' || word AS key
    FROM (
        SELECT incident_id, position, unnest(words) AS word,
               coalesce(country, CASE WHEN len(countries) = 1 THEN countries[1] END, '*') AS cc
        FROM id_words
    )
    WHERE NOT list_contains($generic, word)
    UNION
    SELECT incident_id, position, coalesce(country, '*') AS cc, 'd:' || regexp_replace(domain, '^www\.', '') AS key
    FROM id_words
    WHERE domain IS NOT NULL
)
SELECT k.incident_id, k.position, k.key, k.cc, i.source, i.touched, i.started_at, i.started_latest,
       date_trunc('day', i.started_at) AS start_day
FROM keys k
JOIN id_incidents i USING (incident_id);

-- If two start intervals lie within 2 x slack of each other, the later start falls within
-- 2 x slack of the earlier interval: so one side is spread over the days of its doubly
-- widened interval, the other is joined on the day it starts, and the exact overlap test
-- follows in id_matches. Equi-joins only: on (key, country, day), and on (key, day) for
-- the few targets whose country is unknown.
CREATE OR REPLACE TEMP TABLE id_target_pairs AS
WITH spread AS (
    SELECT k.*, day
    FROM id_keys k,
         unnest(generate_series(date_trunc('day', k.started_at - 2 * $slack_hours * INTERVAL 1 HOUR),
                                k.started_latest + 2 * $slack_hours * INTERVAL 1 HOUR, INTERVAL 1 DAY)) AS d(day)
), joined AS (
    SELECT x.incident_id AS xi, x.position AS xp, x.source AS xs, x.touched AS xt, x.started_at AS xa,
           y.incident_id AS yi, y.position AS yp, y.source AS ys, y.touched AS yt, y.started_at AS ya
    FROM spread x JOIN id_keys y ON y.key = x.key AND y.cc = x.cc AND y.start_day = x.day
    UNION ALL
    SELECT x.incident_id, x.position, x.source, x.touched, x.started_at,
           y.incident_id, y.position, y.source, y.touched, y.started_at
    FROM (SELECT * FROM spread WHERE cc = '*') x JOIN id_keys y ON y.key = x.key AND y.start_day = x.day
    WHERE y.cc <> '*'
    UNION ALL
    SELECT x.incident_id, x.position, x.source, x.touched, x.started_at,
           y.incident_id, y.position, y.source, y.touched, y.started_at
    FROM spread x JOIN (SELECT * FROM id_keys WHERE cc = '*') y ON y.key = x.key AND y.start_day = x.day
    WHERE x.cc <> '*'
), candidates AS (
    SELECT DISTINCT
        least(xi, yi) AS a, CASE WHEN xi < yi THEN xp ELSE yp END AS pa,
        greatest(xi, yi) AS b, CASE WHEN xi < yi THEN yp ELSE xp END AS pb
    FROM joined
    WHERE ya >= xa AND xi <> yi AND xs <> ys AND (xt OR yt)
), sets AS (
    SELECT
        c.a, c.b, ta.organisation AS org_a, tb.organisation AS org_b,
        CASE WHEN regexp_replace(ta.domain, '^www\.', '') = regexp_replace(tb.domain, '^www\.', '')
             THEN ta.domain END AS same_domain,
        ta.words AS wa, tb.words AS wb, len(list_intersect(ta.words, tb.words)) AS shared
    FROM candidates c
    JOIN id_words ta ON ta.incident_id = c.a AND ta.position = c.pa
    JOIN id_words tb ON tb.incident_id = c.b AND tb.position = c.pb
    WHERE (ta.country IS NULL OR tb.country IS NULL OR ta.country = tb.country)
      AND (len(ta.countries) = 0 OR len(tb.countries) = 0 OR list_has_any(ta.countries, tb.countries))
)
SELECT
    a, b, org_a, org_b, same_domain,
    round(shared / nullif(len(wa) + len(wb) - shared, 0), 2) AS similarity,
    shared = least(len(wa), len(wb)) AND shared >= 2 AS contained
FROM sets;

CREATE OR REPLACE TEMP TABLE id_matches AS
SELECT
    p.a, p.b,
    json_object(
        'targets', list(json_object('a', p.org_a, 'b', p.org_b, 'domain', p.same_domain,
                                    'similarity', p.similarity, 'contained', p.contained)
                        ORDER BY p.org_a, p.org_b),
        'gap_hours', round(greatest(0, epoch(ib.started_at) - epoch(ia.started_latest),
                                    epoch(ia.started_at) - epoch(ib.started_latest)) / 3600, 1),
        'attack_types', list_intersect(ia.attack_types, ib.attack_types)
    ) AS evidence
FROM id_target_pairs p
JOIN id_incidents ia ON ia.incident_id = p.a
JOIN id_incidents ib ON ib.incident_id = p.b
WHERE (p.same_domain IS NOT NULL OR p.similarity >= $min_similarity OR p.contained)
  AND ia.lo < ib.hi AND ib.lo < ia.hi
  AND (list_has_any(ia.attack_types, ib.attack_types) OR ia.attack_types = ['other'] OR ib.attack_types = ['other'])
GROUP BY p.a, p.b, ia.started_at, ia.started_latest, ib.started_at, ib.started_latest, ia.attack_types, ib.attack_types
