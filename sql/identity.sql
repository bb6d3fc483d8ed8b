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
--   * or, instead of a shared target, a shared name for the attack itself: the same malware
--     family named in both titles (a distinctive name or synonym from the ATT&CK software
--     and Malpedia galaxies: "WhisperGate", "DriveSlayer" is HermeticWiper), or the same
--     report URL (tracking parameters, scheme and "www." ignored; a URL more than
--     $max_url_share incidents give is a landing page, not a report), with a target country
--     in common (or none stated on one side), and unless each names a target by a
--     distinctive word and they share none;
--   * overlapping time: their start intervals, each widened by $slack_hours on both sides,
--     overlap (date-only sources carry no zone; trackers often date a report, not the attack);
--   * compatible attack types: they share one, or either says only "other" (no type cyberlog
--     maps), or one says intrusion and the other what follows one ($after_intrusion: a wiper,
--     ransomware, a leak, a defacement), the way in and what was done inside;
--   * no conflicting malware: when both titles name malware families, one is the same.
-- Incidents known only to a year are never matched by the rule.
-- Candidates are found with equi-joins on (key, day), so the work grows with the number
-- of incidents per day, not with the square of the store.

CREATE OR REPLACE TEMP TABLE id_incidents AS
SELECT
    incident_id, source, attack_types, started_at, started_latest, title, url,
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

-- The names of an attack that are not its target: malware families its title names, and
-- the report URL it gives.
CREATE OR REPLACE TEMP TABLE id_malware AS
WITH names AS (
    SELECT phrase, split_part(phrase, ' ', 1) AS first, name
    FROM (SELECT unnest($malware_phrases) AS phrase, unnest($malware_names) AS name)
), titles AS (
    SELECT incident_id, ' ' || trim(regexp_replace(lower(strip_accents(title)), '[^a-z0-9]+', ' ', 'g')) || ' ' AS text
    FROM id_incidents
    WHERE title IS NOT NULL
), words AS (
    SELECT DISTINCT incident_id, text, unnest(string_split(trim(text), ' ')) AS word
    FROM titles
)
SELECT incident_id, list(DISTINCT name ORDER BY name) AS malware
FROM words JOIN names ON names.first = words.word
WHERE contains(text, ' ' || phrase || ' ')
GROUP BY incident_id;

CREATE OR REPLACE TEMP TABLE id_named AS
WITH urls AS (
    SELECT incident_id, report_page(url) AS page
    FROM id_incidents
    WHERE url IS NOT NULL
), pages AS (
    SELECT incident_id, 'u:' || page AS key
    FROM urls
    WHERE regexp_matches(page, '^[^/]+/.')
      AND page IN (SELECT page FROM urls GROUP BY page HAVING count(*) <= $max_url_share)
)
SELECT incident_id, 'm:' || unnest(malware) AS key FROM id_malware
UNION
SELECT incident_id, key FROM pages;

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
    UNION
    -- the attack's own names, once per target country stated (position NULL: not a target)
    SELECT n.incident_id, NULL AS position, unnest(coalesce(c.countries, ['*'])) AS cc, n.key
    FROM id_named n
    LEFT JOIN (
        SELECT incident_id, list(DISTINCT country) AS countries
        FROM incident_targets
        WHERE country IS NOT NULL AND incident_id IN (SELECT incident_id FROM id_named)
        GROUP BY incident_id
    ) c USING (incident_id)
)
SELECT k.incident_id, k.position, k.key, k.cc, i.source, i.touched, i.started_at, i.started_latest,
       date_trunc('day', i.started_at) AS start_day
FROM keys k
JOIN id_incidents i USING (incident_id);

-- If two start intervals lie within 2 x slack of each other, the later start falls within
-- 2 x slack of the earlier interval: so one side is spread over the days of its doubly
-- widened interval ($search_hours: 2 x slack, more when `clusters suggest` looks for near
-- misses), the other is joined on the day it starts, and the exact overlap test
-- follows in id_matches. Equi-joins only: on (key, country, day), and on (key, day) for
-- the few targets whose country is unknown.
CREATE OR REPLACE TEMP TABLE id_joined AS
WITH spread AS (
    SELECT k.*, day
    FROM id_keys k,
         unnest(generate_series(date_trunc('day', k.started_at - $search_hours * INTERVAL 1 HOUR),
                                k.started_latest + $search_hours * INTERVAL 1 HOUR, INTERVAL 1 DAY)) AS d(day)
), joined AS (
    SELECT x.key, x.incident_id AS xi, x.position AS xp, x.source AS xs, x.touched AS xt, x.started_at AS xa,
           y.incident_id AS yi, y.position AS yp, y.source AS ys, y.touched AS yt, y.started_at AS ya
    FROM spread x JOIN id_keys y ON y.key = x.key AND y.cc = x.cc AND y.start_day = x.day
    UNION ALL
    SELECT x.key, x.incident_id, x.position, x.source, x.touched, x.started_at,
           y.incident_id, y.position, y.source, y.touched, y.started_at
    FROM (SELECT * FROM spread WHERE cc = '*') x JOIN id_keys y ON y.key = x.key AND y.start_day = x.day
    WHERE y.cc <> '*'
    UNION ALL
    SELECT x.key, x.incident_id, x.position, x.source, x.touched, x.started_at,
           y.incident_id, y.position, y.source, y.touched, y.started_at
    FROM spread x JOIN (SELECT * FROM id_keys WHERE cc = '*') y ON y.key = x.key AND y.start_day = x.day
    WHERE x.cc <> '*'
)
-- one row per pair of targets, or per pair of incidents and name they share: not one per
-- shared word (that would hold every word of every pair in memory)
SELECT DISTINCT
    least(xi, yi) AS a, CASE WHEN xi < yi THEN xp ELSE yp END AS pa,
    greatest(xi, yi) AS b, CASE WHEN xi < yi THEN yp ELSE xp END AS pb,
    CASE WHEN xp IS NULL THEN key END AS named
FROM joined
WHERE ya >= xa AND xi <> yi AND xs <> ys AND (xt OR yt) AND (xp IS NULL) = (yp IS NULL);

-- Pairs of incidents whose targets share a distinctive word or domain, however alike
-- otherwise; and the incidents that name a target by such a word. A shared malware name or
-- report does not join two incidents that each name a target and share none: one CERT
-- report on DDoS against PrivatBank and against Oschadbank the same day is two attacks.
CREATE OR REPLACE TEMP TABLE id_target_any AS
SELECT DISTINCT a, b FROM id_joined WHERE named IS NULL;

CREATE OR REPLACE TEMP TABLE id_named_target AS
SELECT DISTINCT incident_id FROM id_keys WHERE position IS NOT NULL;

-- Pairs that share a name of the attack itself (the country already agrees: see id_keys).
CREATE OR REPLACE TEMP TABLE id_named_pairs AS
SELECT a, b, named AS key
FROM id_joined
WHERE named IS NOT NULL;

CREATE OR REPLACE TEMP TABLE id_target_pairs AS
WITH candidates AS (
    SELECT a, pa, b, pb FROM id_joined WHERE named IS NULL
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
SELECT * FROM (
    SELECT
        a, b, org_a, org_b, same_domain,
        round(shared / nullif(len(wa) + len(wb) - shared, 0), 2) AS similarity,
        shared = least(len(wa), len(wb)) AND shared >= 2 AS contained
    FROM sets
)
-- only the pairs of targets that match, unless near misses are asked for ($near): the
-- candidates sharing a word are many times more
WHERE $near OR same_domain IS NOT NULL OR similarity >= $min_similarity OR contained;

DROP TABLE id_joined;

-- Every candidate pair with each criterion judged: the rule's matches hold them all, and
-- `clusters suggest` lists the pairs that fail only one. Lean: what matched is gathered
-- (id_evidence) only for the pairs the ledger does not hold yet.
CREATE OR REPLACE TEMP TABLE id_candidates AS
WITH by_target AS (
    SELECT a, b, bool_or(same_domain IS NOT NULL OR similarity >= $min_similarity OR contained) AS target_ok
    FROM id_target_pairs
    GROUP BY a, b
), by_name AS (
    SELECT DISTINCT a, b FROM id_named_pairs
)
SELECT
    ia.incident_id AS a, ib.incident_id AS b,
    round(greatest(0, epoch(ib.started_at) - epoch(ia.started_latest),
                   epoch(ia.started_at) - epoch(ib.started_latest)) / 3600, 1) AS gap_hours,
    coalesce(p.target_ok, false)
        OR (n.a IS NOT NULL AND (na.incident_id IS NULL OR nb.incident_id IS NULL OR t.a IS NOT NULL)) AS same_target,
    ia.lo < ib.hi AND ib.lo < ia.hi AS same_time,
    list_has_any(ia.attack_types, ib.attack_types) OR ia.attack_types = ['other'] OR ib.attack_types = ['other']
        OR (list_contains(ia.attack_types, 'intrusion') AND list_has_any(ib.attack_types, $after_intrusion))
        OR (list_contains(ib.attack_types, 'intrusion') AND list_has_any(ia.attack_types, $after_intrusion))
        AS same_type,
    ma.malware IS NULL OR mb.malware IS NULL OR list_has_any(ma.malware, mb.malware) AS same_malware
FROM by_target p
FULL JOIN by_name n ON n.a = p.a AND n.b = p.b
JOIN id_incidents ia ON ia.incident_id = coalesce(p.a, n.a)
JOIN id_incidents ib ON ib.incident_id = coalesce(p.b, n.b)
LEFT JOIN id_malware ma ON ma.incident_id = coalesce(p.a, n.a)
LEFT JOIN id_malware mb ON mb.incident_id = coalesce(p.b, n.b)
LEFT JOIN id_named_target na ON na.incident_id = coalesce(p.a, n.a)
LEFT JOIN id_named_target nb ON nb.incident_id = coalesce(p.b, n.b)
LEFT JOIN id_target_any t ON t.a = coalesce(p.a, n.a) AND t.b = coalesce(p.b, n.b);

CREATE OR REPLACE TEMP TABLE id_matches AS
SELECT a, b, gap_hours
FROM id_candidates
WHERE same_target AND same_time AND same_type AND same_malware;

-- What matched, for the pairs the ledger does not hold in force: the targets that matched,
-- their similarity or shared domain, the malware and report URL shared, the time gap and
-- the attack types in common.
CREATE OR REPLACE TEMP TABLE id_evidence AS
WITH fresh AS (
    SELECT m.*
    FROM id_matches m
    LEFT JOIN v_incident_links l ON l.incident_a = m.a AND l.incident_b = m.b
    WHERE l.decision IS NULL OR l.decision = 'stale'
), targets AS (
    SELECT t.a, t.b,
           list_sort(list({'a': t.org_a, 'b': t.org_b, 'domain': t.same_domain, 'similarity': t.similarity,
                           'contained': t.contained})) AS targets
    FROM id_target_pairs t
    SEMI JOIN fresh f ON f.a = t.a AND f.b = t.b
    WHERE t.same_domain IS NOT NULL OR t.similarity >= $min_similarity OR t.contained
    GROUP BY t.a, t.b
), names AS (
    SELECT n.a, n.b,
           list(DISTINCT n.key[3:] ORDER BY n.key[3:]) FILTER (n.key LIKE 'm:%') AS malware,
           list(DISTINCT n.key[3:] ORDER BY n.key[3:]) FILTER (n.key LIKE 'u:%') AS urls
    FROM id_named_pairs n
    SEMI JOIN fresh f ON f.a = n.a AND f.b = n.b
    GROUP BY n.a, n.b
)
SELECT
    f.a, f.b,
    json_object(
        'targets', coalesce(t.targets, []), 'malware', coalesce(n.malware, []), 'url', coalesce(n.urls, []),
        'gap_hours', f.gap_hours, 'attack_types', list_intersect(ia.attack_types, ib.attack_types)
    ) AS evidence
FROM fresh f
LEFT JOIN targets t ON t.a = f.a AND t.b = f.b
LEFT JOIN names n ON n.a = f.a AND n.b = f.b
JOIN id_incidents ia ON ia.incident_id = f.a
JOIN id_incidents ib ON ib.incident_id = f.b
