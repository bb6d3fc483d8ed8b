-- Event identity: which stored diplomatic events record the same real-world event.
-- Run by ingest/clusters.py after each ingest run that loaded events; the statements are
-- separated by ";\n".
--
-- GDELT codes one meeting as several rows (Germany "make a visit" to Russia, Russia "host
-- a visit" of Germany, from each article), ICEWS as two more, the curated list as one.
-- Two records are one event when all of these hold:
--   * the same day: the UTC day of the middle of each record's interval (a GDELT row
--     bounded by when it was added, 00:00-17:15, and a curated day are both 15 Feb);
--   * the same event class (cyberlog's class of the CAMEO code, when there is one: "make a
--     visit" 042 and "host a visit" 043 are both visits);
--   * the same actor countries, as a set (Germany-Russia is Russia-Germany), stated on both,
--     an actor named without a country counting as "?" (NATO-Russia is not Russia alone);
--     or, instead, the same source URL (not a page more than $max_url_share records give)
--     with actor countries one of which holds the other ("NATO: no sign of de-escalation"
--     with none, the same statement coded as NATO criticising Russia).
-- Records known only to a month or year are never matched by the rule. Only the days this
-- run touched are worked: every criterion holds within one day.

/* groups */
CREATE OR REPLACE TEMP TABLE ev_records AS
SELECT
    event_id, source, run_id, first_loaded_at, event_class, url,
    -- an actor the source names without a country (NATO, the EU) is '?': "NATO comments on
    -- Russia" is not "the Duma appeals to Russia"
    list_sort(list_distinct(actor_countries
        || CASE WHEN actor1 IS NOT NULL AND actor1_country IS NULL THEN ['?'] ELSE [] END
        || CASE WHEN actor2 IS NOT NULL AND actor2_country IS NULL THEN ['?'] ELSE [] END)) AS actors,
    CAST(occurred_at + (occurred_latest - occurred_at) / 2 AS DATE) AS day
FROM (SELECT * FROM diplomatic_events WHERE time_precision IN ('second', 'minute', 'hour', 'day'));

CREATE OR REPLACE TEMP TABLE ev_events AS
WITH touched AS (
    SELECT event_id, day, ($all OR run_id IN (SELECT run_id FROM ingest_runs WHERE identity_done_at IS NULL)) AS touched
    FROM ev_records
), days AS (
    SELECT DISTINCT day FROM touched WHERE touched
)
SELECT
    r.event_id, r.first_loaded_at, r.event_class, r.actors, r.day, t.touched,
    regexp_replace(regexp_replace(regexp_replace(lower(r.url), '#.*$', ''),
        '[?&](utm_[a-z_]+|fbclid|gclid|mc_cid|mc_eid)=[^&]*', '', 'g'),
        '^[a-z][a-z0-9+.-]*://(www\.)?|[/?&]+$', '', 'g') AS page,
    -- the group of records that share day, class and actor countries
    CASE WHEN len([a FOR a IN r.actors IF a <> '?']) > 0
         THEN md5(CAST(r.day AS VARCHAR) || '|' || r.event_class || '|' || array_to_string(r.actors, ','))
         ELSE r.event_id END AS grp
FROM ev_records r
JOIN touched t USING (event_id)
WHERE r.day IN (SELECT day FROM days);

-- Every record whose links this run judges again: those on the days worked, and those the
-- run changed (one that moved to another day, or is now known only to a month)
CREATE OR REPLACE TEMP TABLE ev_worked AS
SELECT event_id FROM ev_events
UNION
SELECT event_id FROM diplomatic_events
WHERE $all OR run_id IN (SELECT run_id FROM ingest_runs WHERE identity_done_at IS NULL);

-- Groups that one report joins: the same page, day and class, one side's actor countries
-- holding the other's. Python joins them (few: a URL is one article).
CREATE OR REPLACE TEMP TABLE ev_url_edges AS
WITH pages AS (
    SELECT * FROM ev_events
    WHERE regexp_matches(page, '^[^/]+/.')
      AND page IN (SELECT page FROM ev_events WHERE page IS NOT NULL GROUP BY page HAVING count(*) <= $max_url_share)
)
SELECT DISTINCT a.grp AS grp_a, b.grp AS grp_b
FROM pages a
JOIN pages b ON a.page = b.page AND a.day = b.day AND a.event_class = b.event_class AND a.grp < b.grp
WHERE list_has_all(a.actors, b.actors) OR list_has_all(b.actors, a.actors)
;

/* pairs */
-- Each record of an event is linked to the event's first-loaded record (its lead), with
-- what matched; ev_roots (from Python) names the joined group each group belongs to.
CREATE OR REPLACE TEMP TABLE ev_wanted AS
WITH members AS (
    SELECT e.*, coalesce(r.root, e.grp) AS comp
    FROM ev_events e
    LEFT JOIN ev_roots r ON r.grp = e.grp
), led AS (
    SELECT *,
           count(*) OVER (PARTITION BY comp) AS records,
           first_value(event_id) OVER (PARTITION BY comp ORDER BY first_loaded_at, event_id) AS lead
    FROM members
)
SELECT
    least(m.event_id, l.event_id) AS a, greatest(m.event_id, l.event_id) AS b,
    json_object('day', m.day, 'event_class', m.event_class, 'actors', [m.actors, l.actors],
                'url', CASE WHEN m.grp <> l.grp THEN m.page END) AS evidence
FROM led m
JOIN ev_events l ON l.event_id = m.lead
WHERE m.records > 1 AND m.event_id <> m.lead
