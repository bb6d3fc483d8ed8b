-- title: Time from an attack to its public attribution
-- description: For each attack (cluster) and each party that attributed it, the time from
--   the attack's start to the first public attribution, in days: `lag_days` between the
--   midpoints of the two times, bounded by `lag_min_days` and `lag_max_days` where either
--   is known only to a day or a month. `dated` says what the attribution's time is: `on`,
--   its own date as the source states it (a curated attribution date, a tracker's, an
--   accusation's day); `by`, only when the source wrote the link down (a STIX
--   relationship's created, a MISP event's publication), so the attribution came no later:
--   such a row has only `lag_max_days`, never a lag of 0; beside a stated date of the same
--   link it ends that date's interval early instead. An attribution dated before the
--   attack began is impossible as a lag (an actor inherited through an earlier link, or a
--   wrong date): `note` says so with both dates and it is left out of the party figures.
--   `role` keeps attributed, claimed and suspected apart. Attributions come from two
--   places, named in `basis`: actor records (every source of the cluster), and, with
--   `events` = true, diplomatic events of class attribution (CAMEO 112 accusations and
--   curated attributions) within `max_days` after the attack whose accused country (a coded
--   event's target actor; any actor of a curated one) is the country of one of the
--   attack's attributed or suspected actors: candidates, `candidates` saying how many
--   attacks the same event could belong to. The last columns summarise each actor and
--   attributing party over its attacks dated `on`: count, median and range of the lag.
-- param: max_days INTEGER = 180  how long after an attack an attribution event may link to it
-- param: events BOOLEAN = false  also link diplomatic events of class attribution (a heuristic)
-- param: actor VARCHAR = NULL  only this actor (as the sources name it, case-insensitive)
-- param: country COUNTRY = NULL  only attacks with a target in this country
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
), records AS (
    SELECT
        m.cluster_id, a.actor, a.role, coalesce(a.attributed_by, '(not named)') AS attributed_by,
        min(a.attributed_at) FILTER (WHERE coalesce(a.attributed_dated, 'on') = 'on') AS on_at,
        min(a.attributed_latest) FILTER (WHERE coalesce(a.attributed_dated, 'on') = 'on') AS on_latest,
        min(a.attributed_at) FILTER (WHERE a.attributed_dated = 'by') AS by_at,
        min(a.attributed_latest) FILTER (WHERE a.attributed_dated = 'by') AS by_latest,
        list(DISTINCT m.incident_id ORDER BY m.incident_id) AS evidence_ids,
        list(DISTINCT m.url ORDER BY m.url) FILTER (WHERE m.url IS NOT NULL) AS evidence_urls
    FROM incident_actors a
    JOIN members m USING (incident_id)
    WHERE a.attributed_at IS NOT NULL
    GROUP BY m.cluster_id, a.actor, a.role, coalesce(a.attributed_by, '(not named)')
), from_records AS (
    -- a stated date, ended early by when another source of the same attack wrote the same
    -- link down (that source knew it by then); only a written-down time when no date is stated
    SELECT
        cluster_id, actor, role, attributed_by,
        CASE WHEN on_at IS NOT NULL THEN 'on' ELSE 'by' END AS dated,
        coalesce(on_at, by_at) AS attributed_at,
        CASE WHEN on_at IS NULL THEN by_latest
             WHEN by_latest > on_at THEN least(on_latest, by_latest)
             ELSE on_latest END AS attributed_latest,
        'actor record' AS basis, 1 AS candidates, evidence_ids, evidence_urls
    FROM records
), actor_countries AS (
    -- the countries of an attack's attributed or suspected actors: who an accusation must name
    SELECT DISTINCT m.cluster_id, a.country
    FROM incident_actors a JOIN members m USING (incident_id)
    WHERE a.country IS NOT NULL AND a.role IN ('attributed', 'suspected')
), linked_events AS (
    SELECT
        k.cluster_id, e.event_id, e.title, e.occurred_at, e.occurred_latest, e.url,
        coalesce(e.actor1, e.actor_countries[1], '(not named)') AS attributed_by,
        count(*) OVER (PARTITION BY e.event_id) AS candidates
    FROM (SELECT DISTINCT e.*, u.country
          FROM diplomatic_events e,
               unnest(CASE WHEN e.actor2_country IS NOT NULL THEN [e.actor2_country] ELSE e.actor_countries END)
                   AS u(country)
          WHERE $events AND e.event_class = 'attribution') e
    JOIN actor_countries ac ON ac.country = e.country
    JOIN attacks k ON k.cluster_id = ac.cluster_id
     AND e.occurred_latest > k.started_at
     AND e.occurred_at < k.started_latest + $max_days * INTERVAL 1 DAY
), from_events AS (
    SELECT
        cluster_id, '(named in the event)' AS actor, 'attributed' AS role, attributed_by, 'on' AS dated,
        min(occurred_at) AS attributed_at, min(occurred_latest) AS attributed_latest,
        'attribution event' AS basis, min(candidates) AS candidates,
        list(DISTINCT event_id ORDER BY event_id) AS evidence_ids,
        list(DISTINCT url ORDER BY url) FILTER (WHERE url IS NOT NULL) AS evidence_urls
    FROM linked_events
    GROUP BY cluster_id, attributed_by
), lags AS (
    SELECT
        k.cluster_id, k.title, k.started_at AS attack_at, array_to_string(k.attack_types, ';') AS attack_types,
        f.actor, f.role, f.attributed_by, f.attributed_at, f.dated, f.basis, f.candidates,
        CASE WHEN f.dated = 'on' THEN
            ((epoch(f.attributed_at) + epoch(f.attributed_latest)) - (epoch(k.started_at) + epoch(k.started_latest)))
            / 2 / 86400 END AS lag,
        CASE WHEN f.dated = 'on' THEN (epoch(f.attributed_at) - epoch(k.started_latest)) / 86400 END AS lag_min,
        (epoch(f.attributed_latest) - epoch(k.started_at)) / 86400 AS lag_max,
        f.evidence_ids, f.evidence_urls
    FROM attacks k
    JOIN (SELECT * FROM from_records UNION ALL SELECT * FROM from_events) f USING (cluster_id)
    WHERE $actor IS NULL OR lower(f.actor) = lower($actor)
), judged AS (
    SELECT
        *,
        CASE WHEN lag_max < 0 THEN 'attributed ' || strftime(attributed_at, '%Y-%m-%d') || ', before the attack began ('
                  || strftime(attack_at, '%Y-%m-%d') || '): an actor inherited through an earlier link, or a wrong date;'
                  || ' left out of the party figures'
             WHEN dated = 'by' THEN 'attributed by this date, when the source wrote the link down; it may be earlier'
        END AS note,
        CASE WHEN dated = 'on' AND lag_max >= 0 THEN lag END AS counted
    FROM lags
)
SELECT
    cluster_id, title, attack_at, attack_types, actor, role, attributed_by, attributed_at, dated, basis,
    round(lag, 1) + 0.0 AS lag_days, round(lag_min, 1) + 0.0 AS lag_min_days, round(lag_max, 1) + 0.0 AS lag_max_days,
    note, candidates,
    count(counted) OVER party AS party_attacks,
    round(median(counted) OVER party, 1) + 0.0 AS party_median_days,
    round(min(counted) OVER party, 1) + 0.0 AS party_min_days,
    round(max(counted) OVER party, 1) + 0.0 AS party_max_days,
    evidence_ids, evidence_urls
FROM judged
WINDOW party AS (PARTITION BY actor, attributed_by, basis)
ORDER BY attack_at, cluster_id, basis, actor, attributed_by, role, dated
