-- Cross-source identity: candidate pairs of incidents that describe the same attack.
-- Run by ingest/clusters.py after each ingest run; the statements are separated by ";\n".
--
-- Two incidents from different sources match when all of these hold:
--   * a shared target: the same domain (a leading "www." ignored), or organisation names
--     whose word sets (ingest/identity.py) have a Jaccard similarity >= $min_similarity,
--     share a word that is not a country, and name no conflicting countries;
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
    ($all OR run_id = $run) AS touched
FROM incidents
WHERE time_precision <> 'year';

CREATE OR REPLACE TEMP TABLE id_keys AS
WITH keys AS (
    SELECT incident_id, position, 'w:' || word AS key
    FROM (SELECT incident_id, position, unnest(name_words) AS word FROM incident_targets)
    WHERE NOT regexp_matches(word, '^[A-Z]{3}$')
    UNION
    SELECT incident_id, position, 'd:' || regexp_replace(domain, '^www\.', '') AS key
    FROM incident_targets
    WHERE domain IS NOT NULL
)
SELECT k.incident_id, k.position, k.key, i.source, i.touched, day
FROM keys k
JOIN id_incidents i USING (incident_id),
     unnest(generate_series(date_trunc('day', i.lo), i.hi, INTERVAL 1 DAY)) AS d(day);

CREATE OR REPLACE TEMP TABLE id_target_pairs AS
WITH candidates AS (
    SELECT DISTINCT a.incident_id AS a, a.position AS pa, b.incident_id AS b, b.position AS pb
    FROM id_keys a
    JOIN id_keys b ON a.key = b.key AND a.day = b.day
    WHERE a.incident_id < b.incident_id AND a.source <> b.source AND (a.touched OR b.touched)
)
SELECT
    c.a, c.b,
    ta.organisation AS org_a, tb.organisation AS org_b,
    CASE WHEN regexp_replace(ta.domain, '^www\.', '') = regexp_replace(tb.domain, '^www\.', '')
         THEN ta.domain END AS same_domain,
    round(len(list_intersect(ta.name_words, tb.name_words))
        / (len(ta.name_words) + len(tb.name_words) - len(list_intersect(ta.name_words, tb.name_words))), 2)
        AS similarity
FROM candidates c
JOIN incident_targets ta ON ta.incident_id = c.a AND ta.position = c.pa
JOIN incident_targets tb ON tb.incident_id = c.b AND tb.position = c.pb
WHERE ta.country IS NULL OR tb.country IS NULL OR ta.country = tb.country;

CREATE OR REPLACE TEMP TABLE id_matches AS
SELECT
    p.a, p.b,
    json_object(
        'targets', list(json_object('a', p.org_a, 'b', p.org_b, 'domain', p.same_domain,
                                    'similarity', p.similarity) ORDER BY p.org_a, p.org_b),
        'gap_hours', round(greatest(0, epoch(ib.started_at) - epoch(ia.started_latest),
                                    epoch(ia.started_at) - epoch(ib.started_latest)) / 3600, 1),
        'attack_types', list_intersect(ia.attack_types, ib.attack_types)
    ) AS evidence
FROM id_target_pairs p
JOIN id_incidents ia ON ia.incident_id = p.a
JOIN id_incidents ib ON ib.incident_id = p.b
WHERE (p.same_domain IS NOT NULL OR p.similarity >= $min_similarity)
  AND ia.lo < ib.hi AND ib.lo < ia.hi
  AND (list_has_any(ia.attack_types, ib.attack_types) OR ia.attack_types = ['other'] OR ib.attack_types = ['other'])
GROUP BY p.a, p.b, ia.started_at, ia.started_latest, ib.started_at, ib.started_latest, ia.attack_types, ib.attack_types
