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
        list_sort(list_distinct(flatten(
            list(coalesce(sectors, [sector])) FILTER (WHERE sector IS NOT NULL OR array_length(sectors) > 0)
        ))) AS target_sectors
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
    coalesce(a.attributed_countries, []) AS attributed_countries,
    coalesce(c.cluster_id, 'clu_' || substr(i.incident_id, 5)) AS cluster_id,
    i.first_loaded_at
FROM incidents i
LEFT JOIN t USING (incident_id)
LEFT JOIN a USING (incident_id)
LEFT JOIN incident_clusters c USING (incident_id);

-- The decision in force for each pair of incidents (the ledger keeps every decision).
CREATE OR REPLACE VIEW v_incident_links AS
SELECT incident_a, incident_b, decision, rule, evidence, note, decided_at, run_id
FROM incident_links
QUALIFY row_number() OVER (PARTITION BY incident_a, incident_b ORDER BY seq DESC) = 1;

-- When a cluster's attack began, from its records' intervals: the point the most records
-- allow (ties: the earliest), and the interval all of those records share. A round
-- timestamp from one feed (MISP's 14:00:00) does not out-rank the hour another feed states
-- (STIX 13:00-14:00, fidelity minute) and the first alert a sensor logged (13:58:00): the
-- records that disagree with the rest are left out, and `time_records` says how many agree.
-- The precision is the interval's width: an hour-wide interval is known to the hour.
CREATE OR REPLACE VIEW v_cluster_times AS
WITH members AS (
    SELECT c.cluster_id, i.incident_id, i.started_at, i.started_latest
    FROM incidents i
    JOIN incident_clusters c USING (incident_id)
), allowed AS (
    SELECT p.cluster_id, p.started_at, count(DISTINCT q.incident_id) AS time_records,
           min(q.started_latest) AS started_latest
    FROM members p
    JOIN members q ON q.cluster_id = p.cluster_id AND q.started_at <= p.started_at AND p.started_at < q.started_latest
    GROUP BY p.cluster_id, p.started_at
), chosen AS (
    SELECT *, row_number() OVER (PARTITION BY cluster_id ORDER BY time_records DESC, started_at) AS pick
    FROM allowed
)
SELECT
    cluster_id, started_at, started_latest,
    CASE WHEN epoch(started_latest) - epoch(started_at) <= 1 THEN 'second'
         WHEN epoch(started_latest) - epoch(started_at) <= 60 THEN 'minute'
         WHEN epoch(started_latest) - epoch(started_at) <= 3600 THEN 'hour'
         WHEN epoch(started_latest) - epoch(started_at) <= 86400 THEN 'day'
         WHEN epoch(started_latest) - epoch(started_at) <= 31 * 86400 THEN 'month'
         ELSE 'year' END AS time_precision,
    time_records
FROM chosen
WHERE pick = 1;

-- One row per incident cluster: the records of several sources that describe one attack
-- (a record no other source matched is a cluster of one). Its time is v_cluster_times';
-- title and URL come from the most precise report (a derived burst only when nothing else
-- describes it; then the best evidence, then the first loaded); lists are the union of
-- every record's. Reports count these, not records.
CREATE OR REPLACE VIEW v_clusters AS
WITH ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY cluster_id
            ORDER BY source = 'derived',  -- a report's title before a burst's ("DDoS on x: 36 alerts")
                     list_position(['second', 'minute', 'hour', 'day', 'month', 'year'], time_precision),
                     list_position(['confirmed', 'reported', 'claimed'], evidence), first_loaded_at, incident_id
        ) AS rank
    FROM v_incidents
), lists AS (
    SELECT
        cluster_id,
        count(*) AS records,
        list_sort(list_distinct(list(source))) AS sources,
        list_sort(list(incident_id)) AS incident_ids,
        list_sort(list_distinct(flatten(list(target_orgs)))) AS target_orgs,
        list_sort(list_distinct(flatten(list(target_domains)))) AS target_domains,
        list_sort(list_distinct(flatten(list(target_countries)))) AS target_countries,
        list_sort(list_distinct(flatten(list(target_sectors)))) AS target_sectors,
        list_sort(list_distinct(flatten(list(actors)))) AS actors,
        list_sort(list_distinct(flatten(list(attributed_countries)))) AS attributed_countries,
        min(first_attributed_at) AS first_attributed_at,
        min(started_at) AS earliest_started_at,
        max(started_at) AS latest_started_at
    FROM v_incidents
    GROUP BY cluster_id
), kinds AS (  -- "other" only when no record names a specific attack type
    SELECT cluster_id, list(DISTINCT attack_type ORDER BY attack_type) AS attack_types
    FROM (SELECT cluster_id, unnest(attack_types) AS attack_type FROM v_incidents)
    WHERE attack_type <> 'other'
    GROUP BY cluster_id
), chosen AS (
    SELECT
        r.cluster_id, l.records, l.sources, r.title, coalesce(ct.started_at, r.started_at) AS started_at,
        coalesce(ct.started_latest, r.started_latest) AS started_latest,
        coalesce(ct.time_precision, r.time_precision) AS time_precision,
        r.ended_at, coalesce(k.attack_types, ['other']) AS attack_types,
        r.evidence, r.severity, r.url, l.target_orgs, l.target_domains, l.target_countries, l.target_sectors,
        l.actors, l.attributed_countries, l.first_attributed_at, l.earliest_started_at, l.latest_started_at,
        l.incident_ids, r.incident_id AS lead_incident_id, r.source AS lead_source, r.source_ref AS lead_source_ref,
        coalesce(ct.time_records, 1) AS time_records
    FROM ranked r
    JOIN lists l USING (cluster_id)
    LEFT JOIN kinds k USING (cluster_id)
    LEFT JOIN v_cluster_times ct USING (cluster_id)
    WHERE r.rank = 1
)
-- `started`: the start as what it is (a day as 2022-02-15, an hour as 2022-02-15T13h), UTC
SELECT *, time_text(started_at, started_latest, time_precision) AS started
FROM chosen;

-- One row per attack (cluster), lean enough for the statistical reports over millions of
-- incidents: the cluster's time (v_cluster_times), the lead record's title and URL (most
-- precise, then best evidence, then first loaded, as in v_clusters) and the union of
-- attack types. Most
-- incidents are clusters of one and pass straight through; only clustered records are
-- grouped.
CREATE OR REPLACE VIEW v_attacks AS
WITH clustered AS (
    SELECT
        c.cluster_id,
        count(*) AS records,
        arg_min(
            {'incident_id': i.incident_id, 'started_at': i.started_at, 'started_latest': i.started_latest,
             'time_precision': i.time_precision, 'title': i.title, 'url': i.url},
            {'derived': i.source = 'derived',
             'precision': list_position(['second', 'minute', 'hour', 'day', 'month', 'year'], i.time_precision),
             'evidence': list_position(['confirmed', 'reported', 'claimed'], i.evidence),
             'loaded': i.first_loaded_at, 'id': i.incident_id}
        ) AS lead,
        list_sort(list_distinct(flatten(list(i.attack_types)))) AS all_types
    FROM incidents i
    JOIN incident_clusters c USING (incident_id)
    GROUP BY c.cluster_id
)
SELECT
    'clu_' || substr(i.incident_id, 5) AS cluster_id, 1 AS records, i.incident_id AS lead_incident_id,
    i.started_at, i.started_latest, i.time_precision,
    coalesce(nullif([t FOR t IN list_sort(list_distinct(i.attack_types)) IF t <> 'other'], []), ['other'])
        AS attack_types,
    i.title, i.url
FROM incidents i
ANTI JOIN incident_clusters c USING (incident_id)
UNION ALL
SELECT
    cluster_id, records, lead.incident_id, ct.started_at, ct.started_latest, ct.time_precision,
    coalesce(nullif([t FOR t IN all_types IF t <> 'other'], []), ['other']) AS attack_types, lead.title, lead.url
FROM clustered
JOIN v_cluster_times ct USING (cluster_id);

-- The decision in force for each pair of event records (the ledger keeps every decision).
CREATE OR REPLACE VIEW v_event_links AS
SELECT event_a, event_b, decision, rule, evidence, note, decided_at, run_id
FROM event_links
QUALIFY row_number() OVER (PARTITION BY event_a, event_b ORDER BY seq DESC) = 1;

-- Diplomatic events, each with its event cluster: the records of several feeds (or several
-- rows of one) that describe one real-world event (sql/event_identity.sql). A record no
-- other matched is an event cluster of its own.
CREATE OR REPLACE VIEW v_events AS
SELECT e.*, coalesce(c.cluster_id, 'ecl_' || substr(e.event_id, 5)) AS cluster_id
FROM diplomatic_events e
LEFT JOIN event_clusters c USING (event_id);

-- One row per real-world event. Its time, title, class and URL are the lead record's (the
-- most precise, then the first loaded); actor countries and sources are every record's.
-- Reports list these, not records: a meeting GDELT, ICEWS and the curated list all
-- recorded is one row.
CREATE OR REPLACE VIEW v_event_clusters AS
WITH clustered AS (
    SELECT
        c.cluster_id,
        count(*) AS records,
        arg_min(
            {'event_id': e.event_id, 'occurred_at': e.occurred_at, 'occurred_latest': e.occurred_latest,
             'time_precision': e.time_precision, 'title': e.title, 'event_class': e.event_class,
             'cameo_code': e.cameo_code, 'url': e.url, 'source': e.source, 'source_ref': e.source_ref},
            {'precision': list_position(['second', 'minute', 'hour', 'day', 'month', 'year'], e.time_precision),
             'loaded': e.first_loaded_at, 'id': e.event_id}
        ) AS lead,
        list_sort(list_distinct(list(e.source))) AS sources,
        list_sort(list(e.event_id)) AS event_ids,
        list_sort(list_distinct(flatten(list(e.actor_countries)))) AS actor_countries
    FROM diplomatic_events e
    JOIN event_clusters c USING (event_id)
    GROUP BY c.cluster_id
)
SELECT
    'ecl_' || substr(e.event_id, 5) AS cluster_id, 1 AS records, e.event_id AS lead_event_id,
    e.occurred_at, e.occurred_latest, e.time_precision, e.event_class, e.cameo_code, e.title, e.url,
    e.actor_countries, [e.source] AS sources, [e.event_id] AS event_ids, e.source AS lead_source,
    e.source_ref AS lead_source_ref
FROM diplomatic_events e
ANTI JOIN event_clusters c USING (event_id)
UNION ALL
SELECT
    cluster_id, records, lead.event_id, lead.occurred_at, lead.occurred_latest, lead.time_precision,
    lead.event_class, lead.cameo_code, lead.title, lead.url, actor_countries, sources, event_ids,
    lead.source, lead.source_ref
FROM clustered;

-- Each attack's targets, one row per target of any of its records and sector of the target
-- (a bank that is also a state agency is on a finance and a government row).
CREATE OR REPLACE VIEW v_attack_targets AS
SELECT coalesce(c.cluster_id, 'clu_' || substr(t.incident_id, 5)) AS cluster_id, t.incident_id, t.organisation,
       t.domain, t.country, unnest(CASE WHEN array_length(t.sectors) > 0 THEN t.sectors ELSE [t.sector] END) AS sector
FROM incident_targets t
LEFT JOIN incident_clusters c USING (incident_id);

-- Where the records of one cluster disagree: start times that cannot all be true at once,
-- different actors, different attack types. `says` lists each source's value.
CREATE OR REPLACE VIEW v_cluster_disagreements AS
WITH members AS (
    SELECT v.*, count(*) OVER (PARTITION BY cluster_id) AS records
    FROM v_incidents v
)
SELECT cluster_id, 'started' AS aspect,
       string_agg(source || ': ' || strftime(started_at, '%Y-%m-%dT%H:%MZ') || ' (' || time_precision || ')',
                  '; ' ORDER BY started_at, source) AS says
FROM members WHERE records > 1
GROUP BY cluster_id HAVING max(started_at) >= min(started_latest)
UNION ALL
SELECT cluster_id, 'actors' AS aspect,
       string_agg(source || ': ' || array_to_string(actors, ', '), '; ' ORDER BY source) AS says
FROM members WHERE records > 1 AND array_length(actors) > 0
GROUP BY cluster_id HAVING count(DISTINCT actors) > 1
UNION ALL
SELECT cluster_id, 'attack_types' AS aspect,
       string_agg(source || ': ' || array_to_string(attack_types, ', '), '; ' ORDER BY source) AS says
FROM members WHERE records > 1 AND attack_types <> ['other']
GROUP BY cluster_id HAVING count(DISTINCT attack_types) > 1;

-- Records whose source wrote them down before the time they give (a STIX object created
-- before its start_time, a GDELT DATEADDED before SQLDATE's day, an ACLED edit before the
-- event): the time is kept as the source gives it and not narrowed by that bound, and each
-- such record is listed here with both, for review.
CREATE OR REPLACE VIEW v_time_disagreements AS
SELECT 'incident' AS kind, incident_id AS id, source, source_ref,
       time_text(started_at, started_latest, time_precision) AS happened,
       regexp_extract(time_basis, 'written ([0-9TZ:-]+), before', 1) AS written, time_basis AS says
FROM incidents
WHERE time_basis LIKE '%before the time it gives%'
UNION ALL
SELECT 'event' AS kind, event_id AS id, source, source_ref,
       time_text(occurred_at, occurred_latest, time_precision) AS happened,
       strftime(recorded_at, '%Y-%m-%dT%H:%M:%SZ') AS written,
       'recorded ' || strftime(recorded_at, '%Y-%m-%dT%H:%M:%SZ') || ', before the time it gives: not bounded by it'
           AS says
FROM diplomatic_events
WHERE recorded_at < occurred_at;

-- Incidents (one row per cluster: an attack several sources reported is one row) and
-- diplomatic events (one row per event cluster) on one time line.
CREATE OR REPLACE VIEW v_timeline AS
SELECT
    'incident' AS kind, cluster_id AS id, array_to_string(sources, ';') AS source,
    lead_source_ref AS source_ref, started_at AS happened_at, started_latest AS happened_latest,
    time_precision, title, array_to_string(attack_types, ';') AS category, target_countries AS countries, url,
    records
FROM v_clusters
UNION ALL
SELECT
    'event' AS kind, cluster_id AS id, array_to_string(sources, ';') AS source, lead_source_ref AS source_ref,
    occurred_at AS happened_at, occurred_latest AS happened_latest, time_precision, title,
    event_class AS category, actor_countries AS countries, url, records
FROM v_event_clusters;

-- The alerts behind each incident derived from a burst: its target and attack type, from
-- its first alert to its last (sql/bursts.sql).
CREATE OR REPLACE VIEW v_derived_evidence AS
SELECT d.incident_id, a.*
FROM derived_incidents d
JOIN alerts a
  ON a.target_key = d.target_key
 AND a.category = d.category
 AND a.observed_at BETWEEN d.started_at AND d.ended_at;

-- Rejects with an id to name them by (`cyberlog rejects show`), and whether they are
-- outstanding: not yet re-validated by `cyberlog rejects replay`.
CREATE OR REPLACE VIEW v_rejects AS
SELECT
    'rej_' || left(md5(file_id || ':' || coalesce(line::VARCHAR, '') || ':' || coalesce(pointer, '')), 12) AS reject_id,
    replayed_at IS NULL AS outstanding,
    *
FROM rejects;

-- What each source holds: one row per source and kind of record, with its newest data and
-- when it was last loaded (the ingest_health report and `cyberlog status` read it).
CREATE OR REPLACE VIEW v_source_records AS
SELECT source, 'incidents' AS kind, count(*) AS records, max(started_at) AS newest_data, max(loaded_at) AS last_loaded
FROM incidents GROUP BY source
UNION ALL
SELECT source, 'diplomatic events', count(*), max(occurred_at), max(loaded_at) FROM diplomatic_events GROUP BY source
UNION ALL
SELECT source, 'alerts', count(*), max(observed_at), max(loaded_at) FROM alerts GROUP BY source;

-- Each record's attack-type and sector words that no vocabulary maps, as its source wrote
-- them: an incident's `unmapped_attack_types` and its targets' `unmapped_sectors`, and an
-- alert's category (`category_raw`) that mapped to no attack type. Incidents loaded before
-- these words were kept show none until their files load again.
CREATE OR REPLACE VIEW v_unmapped AS
SELECT DISTINCT vocabulary, term, source, kind, id
FROM (
    SELECT 'attack_type' AS vocabulary, unnest(unmapped_attack_types) AS term, source, 'incident' AS kind,
           incident_id AS id
    FROM incidents
    UNION ALL
    SELECT 'sector' AS vocabulary, unnest(t.unmapped_sectors) AS term, i.source, 'incident' AS kind,
           t.incident_id AS id
    FROM incident_targets t
    JOIN incidents i USING (incident_id)
) words
UNION ALL
SELECT 'attack_type' AS vocabulary, category_raw AS term, source, 'alert' AS kind, alert_id AS id
FROM alerts
WHERE category = 'other' AND category_raw IS NOT NULL;

-- Each unmapped word with how many records of each source carry it, most first: the rows
-- to add to ingest/data/vocabulary.csv (a VERIS NAICS code: ingest/data/naics_sectors.csv).
-- `cyberlog status` counts the records per source.
CREATE OR REPLACE VIEW v_unmapped_terms AS
SELECT vocabulary, term, source, count(DISTINCT id) AS records
FROM v_unmapped
GROUP BY vocabulary, term, source
ORDER BY records DESC, vocabulary, term, source;
