-- title: Time from an attack to its public attribution
-- description: For each attack (cluster) and each party that attributed it, the time from
--   the attack's start to the first public attribution, in days: `lag_days` between the
--   midpoints of the two times, bounded by `lag_min_days` and `lag_max_days` where either
--   is known only to a day or a month. Attributions come from two places, named in
--   `basis`: actor records with an attribution date (exact links, from every source of
--   the cluster), and diplomatic events of class attribution that fall within `max_days`
--   after the attack and share a country with its targets or attributed actors (a
--   heuristic link: `candidates` says how many attacks the same event could belong to;
--   read those rows with care). The last columns summarise each actor and attributing
--   party over all their attacks: count, median and range of the lag.
-- param: max_days INTEGER = 180  how long after an attack an attribution event may link to it
-- param: events BOOLEAN = false  also link diplomatic events of class attribution (a heuristic)
-- param: actor VARCHAR = NULL  only this actor (as the sources name it, case-insensitive)
-- param: country VARCHAR = NULL  only attacks on this target country (ISO alpha-3)
-- example: cyberlog report run attribution_lag -p country=UKR
-- example: cyberlog report run attribution_lag -p events=true --format csv --out lags.csv
WITH attacks AS (
    SELECT cluster_id, title, started_at, started_latest, attack_types
    FROM v_attacks
    WHERE $country IS NULL OR cluster_id IN (SELECT cluster_id FROM v_attack_targets WHERE country = upper($country))
), members AS (
    SELECT i.incident_id, coalesce(c.cluster_id, 'clu_' || substr(i.incident_id, 5)) AS cluster_id, i.url
    FROM incidents i
    LEFT JOIN incident_clusters c USING (incident_id)
), from_records AS (
    SELECT
        m.cluster_id, a.actor, coalesce(a.attributed_by, '(not named)') AS attributed_by,
        min(a.attributed_at) AS attributed_at, min(a.attributed_latest) AS attributed_latest,
        'actor record' AS basis, 1 AS candidates,
        list(DISTINCT m.incident_id ORDER BY m.incident_id) AS evidence_ids,
        list(DISTINCT m.url ORDER BY m.url) FILTER (WHERE m.url IS NOT NULL) AS evidence_urls
    FROM incident_actors a
    JOIN members m USING (incident_id)
    WHERE a.attributed_at IS NOT NULL
    GROUP BY m.cluster_id, a.actor, coalesce(a.attributed_by, '(not named)')
), attack_countries AS (
    -- the countries an attack touched: its targets' and its attributed actors'
    SELECT cluster_id, country FROM v_attack_targets WHERE country IS NOT NULL
    UNION
    SELECT m.cluster_id, a.country FROM incident_actors a JOIN members m USING (incident_id) WHERE a.country IS NOT NULL
), linked_events AS (
    SELECT
        k.cluster_id, e.event_id, e.title, e.occurred_at, e.occurred_latest, e.url,
        coalesce(e.actor1, e.actor_countries[1], '(not named)') AS attributed_by,
        count(*) OVER (PARTITION BY e.event_id) AS candidates
    FROM (SELECT DISTINCT e.*, u.country FROM diplomatic_events e, unnest(e.actor_countries) AS u(country)
          WHERE $events AND e.event_class = 'attribution') e
    JOIN (SELECT DISTINCT cluster_id, country FROM attack_countries) ac ON ac.country = e.country
    JOIN attacks k ON k.cluster_id = ac.cluster_id
     AND e.occurred_latest > k.started_at
     AND e.occurred_at < k.started_latest + $max_days * INTERVAL 1 DAY
), from_events AS (
    SELECT
        cluster_id, '(named in the event)' AS actor, attributed_by,
        min(occurred_at) AS attributed_at, min(occurred_latest) AS attributed_latest,
        'attribution event' AS basis, min(candidates) AS candidates,
        list(DISTINCT event_id ORDER BY event_id) AS evidence_ids,
        list(DISTINCT url ORDER BY url) FILTER (WHERE url IS NOT NULL) AS evidence_urls
    FROM linked_events
    GROUP BY cluster_id, attributed_by
), lags AS (
    SELECT
        k.cluster_id, k.title, k.started_at AS attack_at, array_to_string(k.attack_types, ';') AS attack_types,
        f.actor, f.attributed_by, f.attributed_at, f.basis, f.candidates,
        ((epoch(f.attributed_at) + epoch(f.attributed_latest)) - (epoch(k.started_at) + epoch(k.started_latest)))
            / 2 / 86400 AS lag,
        (epoch(f.attributed_at) - epoch(k.started_latest)) / 86400 AS lag_min,
        (epoch(f.attributed_latest) - epoch(k.started_at)) / 86400 AS lag_max,
        f.evidence_ids, f.evidence_urls
    FROM attacks k
    JOIN (SELECT * FROM from_records UNION ALL SELECT * FROM from_events) f USING (cluster_id)
    WHERE $actor IS NULL OR lower(f.actor) = lower($actor)
)
SELECT
    cluster_id, title, attack_at, attack_types, actor, attributed_by, attributed_at, basis,
    round(lag, 1) AS lag_days, round(lag_min, 1) AS lag_min_days, round(lag_max, 1) AS lag_max_days,
    candidates,
    count(*) OVER party AS party_attacks,
    round(median(lag) OVER party, 1) AS party_median_days,
    round(min(lag) OVER party, 1) AS party_min_days,
    round(max(lag) OVER party, 1) AS party_max_days,
    evidence_ids, evidence_urls
FROM lags
WINDOW party AS (PARTITION BY actor, attributed_by, basis)
ORDER BY attack_at, cluster_id, basis, actor, attributed_by
