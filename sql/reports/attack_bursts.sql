-- title: Attacks in the defenders' own logs, beside the reports of them
-- description: One row per incident derived from a burst of alerts (WAF, IDS, SIEM logs; see
--   Security telemetry): its target, attack type, first and last alert (UTC), how many
--   minutes it lasted, how many alerts at what peak per minute and in which minute, the
--   feeds that logged it and its top source addresses. Beside it, the reports of the same
--   attack (its cluster) from other sources: who reported it, the most precise start they
--   give (the earliest of equally precise ones) and its precision, and
--   `reported_minus_logged_minutes`: how far the reported start lies from the first alert,
--   as an interval (0 when the alert falls inside the hour or day the report gives;
--   positive when the report puts the attack later, negative when earlier, measured to the
--   interval's nearer end). An attack no one reported has these empty.
-- param: since DATE = NULL  first UTC day to show; default the beginning
-- param: until DATE = NULL  last UTC day to show, inclusive; default the end
-- param: category ATTACK_TYPE = NULL  attack type such as ddos; default all
-- example: cyberlog report run attack_bursts -p since=2022-02-15 -p until=2022-02-15
-- example: cyberlog report run attack_bursts -p category=ddos --format csv --out bursts.csv
WITH bursts AS (
    SELECT d.*, coalesce(c.cluster_id, 'clu_' || substr(d.incident_id, 5)) AS cluster_id
    FROM derived_incidents d
    LEFT JOIN incident_clusters c USING (incident_id)
    WHERE ($since IS NULL OR d.ended_at >= CAST($since AS DATE))
      AND ($until IS NULL OR d.started_at < CAST($until AS DATE) + INTERVAL 1 DAY)
      AND ($category IS NULL OR d.category = lower($category))
), targets AS (
    SELECT t.incident_id, coalesce(t.organisation, t.domain) AS target
    FROM incident_targets t
    SEMI JOIN bursts b ON b.incident_id = t.incident_id
    WHERE t.position = 0
), reports AS (
    SELECT b.incident_id, i.source, i.started_at, i.started_latest, i.time_precision,
           row_number() OVER (
               PARTITION BY b.incident_id
               ORDER BY CASE i.time_precision WHEN 'second' THEN 1 WHEN 'minute' THEN 2 WHEN 'hour' THEN 3
                                              WHEN 'day' THEN 4 WHEN 'month' THEN 5 ELSE 6 END,
                        i.started_at, i.source, i.incident_id
           ) AS nth
    FROM bursts b
    JOIN incident_clusters c ON c.cluster_id = b.cluster_id
    JOIN incidents i ON i.incident_id = c.incident_id
    WHERE i.source <> 'derived'
), reported AS (
    SELECT incident_id, list(DISTINCT source ORDER BY source) AS sources
    FROM reports
    GROUP BY incident_id
)
SELECT
    b.started_at AS first_alert,
    b.ended_at AS last_alert,
    round((epoch(b.ended_at) - epoch(b.started_at)) / 60, 1) AS minutes,
    coalesce(t.target, b.target_key) AS target,
    b.category,
    b.alerts,
    b.peak_per_minute,
    b.peak_minute,
    array_to_string(b.alert_sources, ';') AS logged_by,
    array_to_string(b.top_sources, ';') AS top_sources,
    array_to_string(r.sources, ';') AS reported_by,
    f.started_at AS reported_start,
    f.time_precision AS reported_precision,
    round(CASE WHEN b.started_at < f.started_at THEN epoch(f.started_at) - epoch(b.started_at)
               WHEN b.started_at >= f.started_latest THEN epoch(f.started_latest) - epoch(b.started_at)
               ELSE 0 END / 60, 0) + 0.0 AS reported_minus_logged_minutes,
    b.cluster_id,
    b.incident_id
FROM bursts b
LEFT JOIN targets t USING (incident_id)
LEFT JOIN reported r USING (incident_id)
LEFT JOIN reports f ON f.incident_id = b.incident_id AND f.nth = 1
ORDER BY first_alert, target, b.incident_id;
