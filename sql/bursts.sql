-- Incidents derived from bursts of alerts, run by ingest/bursts.py after a run's files.
-- Statements are separated by ";\n"; values are bound $parameters.
--
-- The rule: per target (alert_target_key) and attack type, count alerts per minute; a
-- minute with at least min_per_minute alerts is hot; hot minutes at most max_gap_minutes apart
-- are one burst; a burst of at least min_alerts alerts is an incident, from its first
-- alert to its last. With by_events the thresholds count the events the alerts stand for
-- (CEF cnt: a device that logs one aggregated alert per attack and interval), not alerts.
-- Only groups with alerts from runs not yet covered are recomputed (all of them with
-- everything), and always over all their alerts, so the same alerts always give the same
-- bursts.

-- An alert that names no host and no organisation is keyed by its address. When every
-- alert that does name a host gives that address the same one, the address-only alerts are
-- keyed by that host too, so an IDS's SYN flood (addresses only) and a WAF's HTTP flood on
-- the same site are one target. An address that serves several hosts (shared hosting, a
-- CDN) keeps its own key. Once keyed by a host, an alert keeps it.
CREATE OR REPLACE TEMP TABLE b_rekeyed AS
WITH unnamed AS MATERIALIZED (
    SELECT DISTINCT dst_ip, category FROM alerts WHERE target_key = dst_ip
), hosted AS (
    SELECT a.dst_ip, min(a.target_key) AS host_key
    FROM alerts a
    SEMI JOIN unnamed u ON u.dst_ip = a.dst_ip
    WHERE a.dst_host IS NOT NULL
    GROUP BY a.dst_ip
    HAVING count(DISTINCT a.target_key) = 1
)
SELECT u.dst_ip AS old_key, h.host_key AS new_key, u.category
FROM unnamed u
JOIN hosted h USING (dst_ip);

UPDATE alerts SET target_key = r.new_key
FROM (SELECT DISTINCT old_key, new_key FROM b_rekeyed) r
WHERE alerts.target_key = alerts.dst_ip AND alerts.dst_ip = r.old_key;

-- the groups to derive: those of the alerts not yet covered, and those re-keying changed
CREATE OR REPLACE TEMP TABLE b_groups AS
SELECT DISTINCT target_key, category
FROM (
    SELECT target_key, category
    FROM alerts
    WHERE ($everything OR run_id IN (SELECT run_id FROM ingest_runs WHERE bursts_done_at IS NULL))
    UNION ALL
    SELECT old_key, category FROM b_rekeyed
    UNION ALL
    SELECT new_key, category FROM b_rekeyed
)
WHERE (len($categories) = 0 OR list_contains($categories, category))
  AND target_key IS NOT NULL;

-- minutes, not alerts: everything after this reads a table a 60th of the size or less
CREATE OR REPLACE TEMP TABLE b_minutes AS
SELECT g.target_key, g.category, date_trunc('minute', a.observed_at) AS minute,
       CASE WHEN $by_events THEN sum(a.event_count) ELSE count(*) END AS n, count(*) AS alert_count,
       min(a.observed_at) AS first_at, max(a.observed_at) AS last_at
FROM alerts a
JOIN b_groups g ON g.target_key = a.target_key AND g.category = a.category
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE b_bursts AS
WITH hot AS (
    SELECT target_key, category, minute,
           minute - lag(minute) OVER (PARTITION BY target_key, category ORDER BY minute) AS gap
    FROM b_minutes
    WHERE n >= $min_per_minute
), numbered AS (
    SELECT *, sum(CASE WHEN gap IS NULL OR gap > to_minutes($max_gap_minutes::BIGINT) THEN 1 ELSE 0 END)
                  OVER (PARTITION BY target_key, category ORDER BY minute) AS burst_no
    FROM hot
), spans AS (
    SELECT target_key, category, burst_no, min(minute) AS first_minute, max(minute) AS last_minute
    FROM numbered GROUP BY ALL
)
SELECT s.target_key, s.category, s.first_minute,
       min(m.first_at) AS started_at, max(m.last_at) AS ended_at, sum(m.alert_count) AS alerts,
       max(m.n) AS peak_per_minute, arg_max(m.minute, {'n': m.n, 'earlier': -epoch(m.minute)}) AS peak_minute  -- the first of equal peaks
FROM spans s
JOIN b_minutes m ON m.target_key = s.target_key AND m.category = s.category
                AND m.minute BETWEEN s.first_minute AND s.last_minute
GROUP BY ALL
HAVING sum(m.n) >= $min_alerts;

-- who, from where, how bad: read from the burst's own alerts, summed up first by the few
-- values that describe them and by source address
CREATE OR REPLACE TEMP TABLE b_detail AS
WITH mine AS MATERIALIZED (
    SELECT b.target_key, b.category, b.first_minute, a.src_ip, a.source, a.target_org, a.dst_host, a.product,
           a.severity
    FROM b_bursts b
    JOIN alerts a ON a.target_key = b.target_key AND a.category = b.category
                 AND a.observed_at BETWEEN b.started_at AND b.ended_at
), described AS (
    SELECT target_key, category, first_minute, source, target_org, dst_host, product, severity, count(*) AS n
    FROM mine GROUP BY ALL
), sources AS (
    SELECT target_key, category, first_minute, src_ip, count(*) AS n
    FROM mine WHERE src_ip IS NOT NULL GROUP BY ALL
), top AS (
    SELECT target_key, category, first_minute, list(src_ip ORDER BY n DESC, src_ip)[1:5] AS top_sources
    FROM sources GROUP BY ALL
)
SELECT d.target_key, d.category, d.first_minute,
       list(DISTINCT d.source ORDER BY d.source) AS alert_sources,
       arg_max(d.target_org, d.n) FILTER (WHERE d.target_org IS NOT NULL) AS target_org,
       arg_max(d.dst_host, d.n) FILTER (WHERE d.dst_host IS NOT NULL) AS dst_host,
       coalesce(list(DISTINCT d.product ORDER BY d.product) FILTER (WHERE d.product IS NOT NULL), []) AS products,
       ['low', 'medium', 'high', 'critical'][max(CASE d.severity WHEN 'low' THEN 1 WHEN 'medium' THEN 2
                                                 WHEN 'high' THEN 3 WHEN 'critical' THEN 4 END)] AS severity,
       any_value(t.top_sources) AS top_sources
FROM described d
LEFT JOIN top t USING (target_key, category, first_minute)
GROUP BY d.target_key, d.category, d.first_minute;

-- Stable ids: a burst that overlaps an incident derived before keeps that incident's id
-- (the earliest, if it now joins several: the others are removed); a new one gets one
-- from its target, type and first minute.
CREATE OR REPLACE TEMP TABLE b_plan AS
WITH touching AS (
    SELECT b.target_key, b.category, b.first_minute, d.incident_id, d.started_at AS old_start
    FROM b_bursts b
    JOIN derived_incidents d ON d.target_key = b.target_key AND d.category = b.category
     AND d.started_at <= b.ended_at + to_minutes($max_gap_minutes::BIGINT)
     AND d.ended_at >= b.started_at - to_minutes($max_gap_minutes::BIGINT)
), earliest AS (
    SELECT target_key, category, first_minute, arg_min(incident_id, old_start) AS incident_id
    FROM touching GROUP BY ALL
), kept AS (  -- an old incident that two bursts overlap stays with the first of them
    SELECT * FROM earliest QUALIFY row_number() OVER (PARTITION BY incident_id ORDER BY first_minute) = 1
)
SELECT b.*, t.alert_sources, t.target_org, t.dst_host, t.products, t.severity, coalesce(t.top_sources, []) AS top_sources,
       coalesce(k.incident_id, 'inc_' || left(sha256('derived' || chr(31) || b.target_key || '|' || b.category || '|'
                                         || strftime(b.first_minute, '%Y-%m-%dT%H:%MZ')), 20)) AS incident_id,
       coalesce(i.source_ref, b.target_key || '|' || b.category || '|' || strftime(b.first_minute, '%Y-%m-%dT%H:%MZ'))
           AS source_ref,
       i.first_loaded_at
FROM b_bursts b
JOIN b_detail t USING (target_key, category, first_minute)
LEFT JOIN kept k USING (target_key, category, first_minute)
LEFT JOIN incidents i ON i.incident_id = k.incident_id;

-- derived incidents of the recomputed groups that no burst holds any more
-- (all that no burst holds, when everything is derived again under a new rule: an attack
-- type the rule no longer derives included)
CREATE OR REPLACE TEMP TABLE b_gone AS
SELECT d.incident_id FROM derived_incidents d
LEFT JOIN b_groups g USING (target_key, category)
WHERE ($everything OR g.target_key IS NOT NULL) AND d.incident_id NOT IN (SELECT incident_id FROM b_plan)
;

/* words */

-- What each burst's incident says (b_words: the target organisations as matching words,
-- made by the module). Rows whose content did not change are left alone.
CREATE OR REPLACE TEMP TABLE b_rows AS
SELECT
    p.*,
    CASE p.category WHEN 'ddos' THEN 'DDoS' WHEN 'data_leak' THEN 'Data leak'
                    ELSE upper(p.category[1]) || p.category[2:] END
        || ' on ' || coalesce(p.target_org, p.dst_host, p.target_key) || ': ' || format('{:,}', p.alerts)
        || ' alerts, peak ' || format('{:,}', p.peak_per_minute) || CASE WHEN $by_events THEN ' events' ELSE '' END
        || '/min' AS title,
    'Derived from ' || format('{:,}', p.alerts) || ' alerts (' || array_to_string(p.products, ', ')
        || '; feeds ' || array_to_string(p.alert_sources, ', ') || ') from '
        || strftime(p.started_at, '%Y-%m-%dT%H:%M:%SZ') || ' to ' || strftime(p.ended_at, '%Y-%m-%dT%H:%M:%SZ')
        || '; peak ' || p.peak_per_minute || CASE WHEN $by_events THEN ' events' ELSE '' END
        || ' per minute at ' || strftime(p.peak_minute, '%H:%MZ')
        || CASE WHEN len(p.top_sources) > 0 THEN '; top sources ' || array_to_string(p.top_sources, ', ') ELSE '' END
        || '.' AS description,
    md5(concat_ws('|', p.started_at, p.ended_at, p.alerts, p.peak_per_minute, p.top_sources, p.target_org,
                  p.dst_host, p.severity, p.alert_sources, p.products)) AS content_hash,
    i.content_hash AS old_hash
FROM b_plan p
LEFT JOIN incidents i ON i.incident_id = p.incident_id;

CREATE OR REPLACE TEMP TABLE b_counts AS
SELECT
    count(*) FILTER (WHERE old_hash IS NULL) AS inserted,
    count(*) FILTER (WHERE old_hash <> content_hash) AS updated,
    count(*) FILTER (WHERE old_hash = content_hash) AS unchanged,
    (SELECT count(*) FROM b_gone) AS removed
FROM b_rows;

DELETE FROM b_rows WHERE old_hash = content_hash;

DELETE FROM incident_targets
WHERE incident_id IN (SELECT incident_id FROM b_rows UNION ALL SELECT incident_id FROM b_gone);

DELETE FROM incidents
WHERE incident_id IN (SELECT incident_id FROM b_rows UNION ALL SELECT incident_id FROM b_gone);

DELETE FROM derived_incidents
WHERE incident_id IN (SELECT incident_id FROM b_rows UNION ALL SELECT incident_id FROM b_gone);

INSERT INTO incidents BY NAME
SELECT
    incident_id, 'derived' AS source, source_ref, title, description, [category] AS attack_types,
    started_at, started_at + INTERVAL 1 SECOND AS started_latest, 'second' AS time_precision,
    ended_at, ended_at + INTERVAL 1 SECOND AS ended_latest, 'second' AS ended_precision,
    'reported' AS evidence, severity, NULL AS url, ended_at AS source_modified,
    'first alert of a burst (' || array_to_string(alert_sources, ', ') || ')' AS time_basis,
    content_hash, $run AS run_id, $file AS file_id, NULL AS line, NULL AS pointer,
    coalesce(first_loaded_at, $now) AS first_loaded_at, $now AS loaded_at
FROM b_rows;

INSERT INTO incident_targets BY NAME
SELECT
    r.incident_id, 0 AS position, r.target_org AS organisation, r.dst_host AS domain, NULL AS country,
    NULL AS sector, NULL AS country_raw, w.name_words, $run AS run_id, $file AS file_id
FROM b_rows r
LEFT JOIN b_words w USING (target_org);

INSERT INTO derived_incidents BY NAME
SELECT
    incident_id, target_key, category, started_at, ended_at, alerts, peak_per_minute, peak_minute,
    top_sources, alert_sources, $rule::JSON AS rule, $now AS derived_at
FROM b_rows
