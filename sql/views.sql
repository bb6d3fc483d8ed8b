-- Stable views for ad-hoc queries. Their columns are part of cyberlog's interface:
-- add columns at the end, never rename or drop one.

-- Incidents with their targets and actors folded into lists.
CREATE OR REPLACE VIEW v_incidents AS
WITH t AS (
    SELECT
        incident_id,
        list(organisation ORDER BY position) FILTER (WHERE organisation IS NOT NULL) AS target_orgs,
        list(domain ORDER BY position) FILTER (WHERE domain IS NOT NULL) AS target_domains,
        list(DISTINCT country ORDER BY country) FILTER (WHERE country IS NOT NULL) AS target_countries,
        list(DISTINCT sector ORDER BY sector) FILTER (WHERE sector IS NOT NULL) AS target_sectors
    FROM incident_targets
    GROUP BY incident_id
), a AS (
    SELECT
        incident_id,
        list(DISTINCT actor ORDER BY actor) AS actors,
        min(attributed_at) AS first_attributed_at,
        list(DISTINCT country ORDER BY country) FILTER (WHERE country IS NOT NULL) AS attributed_countries
    FROM incident_actors
    GROUP BY incident_id
)
SELECT
    i.incident_id, i.source, i.source_ref, i.title, i.description, i.attack_types,
    i.started_at, i.started_latest, i.time_precision, i.ended_at, i.evidence, i.severity,
    i.url,
    coalesce(t.target_orgs, []) AS target_orgs,
    coalesce(t.target_domains, []) AS target_domains,
    coalesce(t.target_countries, []) AS target_countries,
    coalesce(t.target_sectors, []) AS target_sectors,
    coalesce(a.actors, []) AS actors,
    a.first_attributed_at,
    i.run_id, i.file_id, i.loaded_at,
    i.time_basis, i.ended_latest, i.source_modified,
    coalesce(a.attributed_countries, []) AS attributed_countries
FROM incidents i
LEFT JOIN t USING (incident_id)
LEFT JOIN a USING (incident_id);

-- Incidents and diplomatic events on one time line.
CREATE OR REPLACE VIEW v_timeline AS
SELECT
    'incident' AS kind, incident_id AS id, source, source_ref, started_at AS happened_at,
    started_latest AS happened_latest, time_precision, title,
    array_to_string(attack_types, ';') AS category, target_countries AS countries, url
FROM v_incidents
UNION ALL
SELECT
    'event' AS kind, event_id AS id, source, source_ref, occurred_at AS happened_at,
    occurred_latest AS happened_latest, time_precision, title,
    event_class AS category, actor_countries AS countries, url
FROM diplomatic_events;
