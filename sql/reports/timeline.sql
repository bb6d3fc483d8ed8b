-- title: Timeline of incidents and diplomatic events
-- description: Incidents and diplomatic events merged in time order, side by side.
--   `happened_at` is the earliest instant a record allows and `time_precision` how far it may
--   stretch (a day-precision record covers that whole UTC day); `happened` shows the time as
--   what it is: a day as 2022-02-15, an hour as 2022-02-15T07h, a time a report bounded as
--   its two ends (2022-02-15T00:00Z/17:15Z). `country` matches an
--   incident's target country or an event's actor country; the date range keeps every
--   record that may fall inside it. An attack several sources reported is one row, and so is
--   an event several records describe (one meeting from GDELT, ICEWS and the curated list):
--   `records` counts them and `source` lists them (see `cyberlog clusters show ID`).
-- param: country COUNTRY = NULL  only incidents with a target in this country and events with an actor from it; default all
-- param: since DATE = NULL  first UTC day to show; default the beginning
-- param: until DATE = NULL  last UTC day to show, inclusive; default the end
-- param: kind VARCHAR(incident|event) = NULL  only incidents or only events; default both
-- example: cyberlog report run timeline -p since=2022-02-14 -p until=2022-02-16
-- example: cyberlog report run timeline -p country=UKR --format csv --out timeline.csv
WITH attacks AS (
    -- the lean view first, cut to the range; lists are gathered only for what is shown
    SELECT *
    FROM v_attacks
    WHERE ($since IS NULL OR started_latest > CAST($since AS DATE))
      AND ($until IS NULL OR started_at < CAST($until AS DATE) + INTERVAL 1 DAY)
      AND ($kind IS NULL OR lower($kind) = 'incident')
      AND ($country IS NULL OR cluster_id IN (SELECT cluster_id FROM v_attack_targets WHERE country = upper($country)))
), members AS (
    SELECT coalesce(c.cluster_id, 'clu_' || substr(i.incident_id, 5)) AS cluster_id, i.source
    FROM incidents i
    LEFT JOIN incident_clusters c USING (incident_id)
), sources AS (
    SELECT m.cluster_id, list(DISTINCT m.source ORDER BY m.source) AS sources
    FROM members m
    SEMI JOIN attacks a ON a.cluster_id = m.cluster_id
    GROUP BY m.cluster_id
), countries AS (
    SELECT t.cluster_id, list(DISTINCT t.country ORDER BY t.country) FILTER (WHERE t.country IS NOT NULL) AS countries
    FROM v_attack_targets t
    SEMI JOIN attacks a ON a.cluster_id = t.cluster_id
    GROUP BY t.cluster_id
), merged AS (
    SELECT
        'incident' AS kind, a.cluster_id AS id, array_to_string(s.sources, ';') AS source,
        i.source_ref, a.started_at AS happened_at, a.started_latest AS happened_latest, a.time_precision, a.title,
        array_to_string(a.attack_types, ';') AS category, coalesce(c.countries, []) AS countries, a.url,
        a.records
    FROM attacks a
    JOIN incidents i ON i.incident_id = a.lead_incident_id
    LEFT JOIN sources s USING (cluster_id)
    LEFT JOIN countries c USING (cluster_id)
    UNION ALL
    SELECT
        'event' AS kind, cluster_id AS id, array_to_string(sources, ';') AS source, lead_source_ref AS source_ref,
        occurred_at AS happened_at, occurred_latest AS happened_latest, time_precision, title,
        event_class AS category, actor_countries AS countries, url, records
    FROM v_event_clusters
    WHERE ($since IS NULL OR occurred_latest > CAST($since AS DATE))
      AND ($until IS NULL OR occurred_at < CAST($until AS DATE) + INTERVAL 1 DAY)
      AND ($kind IS NULL OR lower($kind) = 'event')
      AND ($country IS NULL OR list_contains(actor_countries, upper($country)))
)
SELECT
    happened_at,
    time_precision,
    kind,
    category,
    title,
    array_to_string(countries, ';') AS countries,
    source,
    source_ref,
    id,
    url,
    records,
    -- the time as what it is (a day as 2022-02-15, a bounded day as its two ends), UTC
    time_text(happened_at, happened_latest, time_precision) AS happened
FROM merged
ORDER BY happened_at, kind DESC, id
