-- title: Incidents near diplomatic events
-- description: Each incident beside the diplomatic events within a window before or
--   after it, with the signed lag in hours (positive: the incident came after the
--   event). Times known only to an hour, day or month are intervals, so `lag_hours` is
--   measured between their midpoints, `lag_min_hours` and `lag_max_hours` bound it, and
--   `within` says whether the pair is certainly inside the window or only possibly.
--   This is raw co-occurrence: on busy weeks almost every incident is near some event.
--   `incident_at` and `event_at` show each time as what it is (a day as 2022-02-15, an hour
--   as 2022-02-15T14h, a time a report bounded as its two ends, 2022-02-15T00:00Z/08:23Z).
--   An attack several sources reported counts once (its cluster: the most precise record's
--   time and title, every source listed in `incident_sources`), and so does an event several
--   records describe (its event cluster: `event_id` is its most precise record, `event_source`
--   lists every source, `event_records` counts them).
-- param: window_hours INTEGER = 72  how far before and after an incident to look, in hours
-- param: country COUNTRY = NULL  only incidents with a target in this country
-- param: event_class EVENT_CLASS = NULL  only events of this class
-- param: event_country COUNTRY = NULL  only events with an actor from this country
-- param: coarsest PRECISION = 'day'  leave out incidents and events known less precisely than this
-- param: since DATE = NULL  only incidents that may have started on or after this UTC day
-- param: until DATE = NULL  only incidents that may have started on or before this UTC day
-- example: cyberlog report run incidents_near_events -p country=UKR -p window_hours=24
-- example: cyberlog report run incidents_near_events -p event_class=sanction --format csv
WITH precisions AS (
    SELECT ['second', 'minute', 'hour', 'day', 'month', 'year'] AS ranks
), inc AS (
    SELECT a.*
    FROM v_attacks a, precisions
    WHERE list_position(ranks, time_precision) <= list_position(ranks, lower($coarsest))
      AND ($country IS NULL OR cluster_id IN (SELECT cluster_id FROM v_attack_targets WHERE country = upper($country)))
      AND ($since IS NULL OR started_latest > CAST($since AS DATE))
      AND ($until IS NULL OR started_at < CAST($until AS DATE) + INTERVAL 1 DAY)
), ev AS (
    -- one row per real-world event (its event cluster): a meeting GDELT, ICEWS and the
    -- curated list all recorded is listed once, with every source
    SELECT *, lead_event_id AS event_id, cluster_id AS event_cluster_id, records AS event_records,
           array_to_string(sources, ';') AS source
    FROM v_event_clusters, precisions
    WHERE list_position(ranks, time_precision) <= list_position(ranks, lower($coarsest))
      AND ($event_class IS NULL OR event_class = lower($event_class))
      AND ($event_country IS NULL OR list_contains(actor_countries, upper($event_country)))
), pairs AS (
    SELECT
        i.*,
        e.event_id, e.occurred_at, e.occurred_latest, e.time_precision AS event_precision,
        e.event_class, e.title AS event_title, e.actor_countries, e.source AS event_source,
        e.url AS event_url, e.event_cluster_id, e.event_records,
        (epoch(i.started_at) + epoch(i.started_latest)) / 2
            - (epoch(e.occurred_at) + epoch(e.occurred_latest)) / 2 AS lag_s,
        epoch(i.started_at) - epoch(e.occurred_latest) AS lag_min_s,
        epoch(i.started_latest) - epoch(e.occurred_at) AS lag_max_s
    FROM inc i
    JOIN ev e
      ON e.occurred_at < i.started_latest + $window_hours * INTERVAL 1 HOUR
     AND e.occurred_latest > i.started_at - $window_hours * INTERVAL 1 HOUR
), paired AS (
    SELECT DISTINCT cluster_id FROM pairs
), sources AS (
    -- every source of the attacks listed (only those: the store may hold millions)
    SELECT m.cluster_id, list(DISTINCT m.source ORDER BY m.source) AS sources
    FROM (SELECT i.source, coalesce(c.cluster_id, 'clu_' || substr(i.incident_id, 5)) AS cluster_id
          FROM incidents i LEFT JOIN incident_clusters c USING (incident_id)) m
    SEMI JOIN paired p ON p.cluster_id = m.cluster_id
    GROUP BY m.cluster_id
), countries AS (
    SELECT t.cluster_id, list(DISTINCT t.country ORDER BY t.country) FILTER (WHERE t.country IS NOT NULL) AS countries
    FROM v_attack_targets t
    SEMI JOIN paired p ON p.cluster_id = t.cluster_id
    GROUP BY t.cluster_id
)
SELECT
    -- each time as what it is: a day as 2022-02-15, an hour as 2022-02-15T14h, an interval a
    -- bound ended early as its two ends (2022-02-15T00:00Z/08:23Z); UTC throughout
    time_text(p.started_at, p.started_latest, p.time_precision) AS incident_at,
    p.title AS incident,
    time_text(p.occurred_at, p.occurred_latest, p.event_precision) AS event_at,
    p.event_title AS event,
    round(p.lag_s / 3600, 1) + 0.0 AS lag_hours,
    CASE
        WHEN p.lag_min_s >= -3600 * $window_hours AND p.lag_max_s <= 3600 * $window_hours THEN 'certain'
        ELSE 'possible'
    END AS within,
    p.event_class,
    p.time_precision AS incident_precision,
    p.event_precision,
    round(p.lag_min_s / 3600, 1) + 0.0 AS lag_min_hours,
    round(p.lag_max_s / 3600, 1) + 0.0 AS lag_max_hours,
    array_to_string(p.attack_types, ';') AS attack_types,
    array_to_string(coalesce(c.countries, []), ';') AS target_countries,
    array_to_string(p.actor_countries, ';') AS event_countries,
    p.cluster_id,
    p.event_id,
    array_to_string(s.sources, ';') AS incident_sources,
    p.event_source,
    p.url AS incident_url,
    p.event_url,
    p.event_cluster_id,
    p.event_records
FROM pairs p
LEFT JOIN sources s USING (cluster_id)
LEFT JOIN countries c USING (cluster_id)
ORDER BY p.started_at, p.cluster_id, p.occurred_at, p.event_id
