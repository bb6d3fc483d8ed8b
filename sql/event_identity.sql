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
--   * for military events of sources that geocode each report and state its precision
--     (VIINA, UCDP GED), the same place to a tenth of a degree;
--     or, instead, the same source URL (not a page more than $max_url_share records give)
--     with actor countries one of which holds the other ("NATO: no sign of de-escalation"
--     with none, the same statement coded as NATO criticising Russia).
-- Records known only to a month or year are never matched by the rule. Only the days this
-- run touched are worked: every criterion holds within one day. Decisions by hand are kept
-- in the ledger event_links: an undone pair stays apart, merged pairs join their events.

/* groups */
-- the records this run loaded or changed (or named by hand, or all), and the records that
-- share an event with one of them: their event is worked again whole.
-- The records of the runs not yet worked are found by when they were loaded ($since: a day
-- before the first such run began, from the loader), so a store of a decade reads only the
-- row groups loaded since: their zone maps skip the rest. Only a record loaded before (an
-- update: first loaded earlier) or named by hand can already share an event; a run of new
-- records only leaves that side empty, and the scans of event_clusters behind it are skipped.
CREATE OR REPLACE TEMP TABLE ev_pending AS
SELECT event_id, occurred_at, occurred_latest, true AS known
FROM diplomatic_events
WHERE $all OR (len($ids) > 0 AND list_contains($ids, event_id))
UNION ALL
SELECT event_id, occurred_at, occurred_latest, first_loaded_at < loaded_at AS known
FROM diplomatic_events
WHERE loaded_at >= $since AND run_id IN (SELECT run_id FROM ingest_runs WHERE identity_done_at IS NULL);

CREATE OR REPLACE TEMP TABLE ev_touched AS
SELECT DISTINCT event_id, occurred_at, occurred_latest FROM ev_pending
UNION
SELECT e.event_id, e.occurred_at, e.occurred_latest
FROM diplomatic_events e
SEMI JOIN (SELECT event_id FROM event_clusters
           WHERE cluster_id IN (SELECT cluster_id FROM event_clusters
                                WHERE event_id IN (SELECT event_id FROM ev_pending WHERE known)))
    m USING (event_id);

-- Every record on the days those fall on (by the middle of their intervals). The middle of a
-- day-wide or narrower interval lies within a day of its start, so the scan is cut to the
-- touched days' range first.
CREATE OR REPLACE TEMP TABLE ev_records AS
WITH days AS (
    SELECT DISTINCT middle_day(occurred_at, occurred_latest) AS day FROM ev_touched
), candidates AS (
    SELECT *, middle_day(occurred_at, occurred_latest) AS day
    FROM diplomatic_events
    WHERE time_precision IN ('second', 'minute', 'hour', 'day')
      AND occurred_at >= (SELECT min(day) FROM days) - INTERVAL 1 DAY
      AND occurred_at < (SELECT max(day) FROM days) + INTERVAL 2 DAY
)
SELECT
    event_id, first_loaded_at, event_class, url, day, latitude, longitude, location_precision,
    -- an actor the source names without a country (NATO, the EU) is '?': "NATO comments on
    -- Russia" is not "the Duma appeals to Russia"
    list_sort(list_distinct(actor_countries
        || CASE WHEN actor1 IS NOT NULL AND actor1_country IS NULL THEN ['?'] ELSE [] END
        || CASE WHEN actor2 IS NOT NULL AND actor2_country IS NULL THEN ['?'] ELSE [] END)) AS actors
FROM candidates
WHERE day IN (SELECT day FROM days);

CREATE OR REPLACE TEMP TABLE ev_events AS
WITH placed AS (
    SELECT *,
        -- a point that stands for an area (UCDP where_prec 3-7, VIINA's ADM1 and ADM2 places:
        -- centroids) places nothing: such records group as records without a place
        CASE WHEN event_class = 'military' AND location_precision IS NOT NULL AND latitude IS NOT NULL
                  AND location_precision NOT IN ('3', '4', '5', '6', '7', 'ADM1', 'ADM2')
             THEN [round(latitude, 1), round(longitude, 1)] END AS place
    FROM ev_records
)
SELECT
    r.event_id, r.first_loaded_at, r.event_class, r.actors, r.day, r.url, r.place,
    -- the group of records that share day, class and actor countries; and, for kinetic event
    -- data that geocode each report and say how precisely (VIINA, UCDP: location_precision),
    -- the place, to a tenth of a degree: shelling of two towns the same day is two events
    CASE WHEN len([a FOR a IN r.actors IF a <> '?']) = 0 THEN hash(r.event_id)
         ELSE hash(r.day, r.event_class, r.actors, r.place) END AS grp
FROM placed r;

-- Every record whose links this run judges again: those on the days worked, and those the
-- run changed (one that moved to another day, or is now known only to a month)
CREATE OR REPLACE TEMP TABLE ev_worked AS
SELECT event_id FROM ev_events
UNION
SELECT event_id FROM ev_touched;

-- Groups that one report joins: the same page, day and class, one side's actor countries
-- holding the other's. Python joins them (few: a URL is one article).
CREATE OR REPLACE TEMP TABLE ev_url_edges AS
WITH normalised AS (
    SELECT grp, day, event_class, actors, place,
           report_page(url) AS page
    FROM ev_events
    WHERE url IS NOT NULL
), pages AS (
    -- a page of one record joins nothing
    SELECT * FROM normalised
    WHERE page IN (SELECT page FROM normalised GROUP BY page HAVING count(*) BETWEEN 2 AND $max_url_share)
      AND regexp_matches(page, '^[^/]+/.')
)
SELECT DISTINCT a.grp AS grp_a, b.grp AS grp_b
FROM pages a
JOIN pages b ON a.page = b.page AND a.day = b.day AND a.event_class = b.event_class AND a.grp < b.grp
    AND a.place IS NOT DISTINCT FROM b.place  -- one report of shelling in two towns: two events
WHERE list_has_all(a.actors, b.actors) OR list_has_all(b.actors, a.actors);

/* clusters */
-- Each record of an event joins the event's first-loaded record (its lead), unless a
-- decision by hand undid that pair; ev_roots (from Python) names the joined group each
-- group of a shared report belongs to. The rule's links are not stored: they follow from
-- the records (a coded feed gives one per row), and `clusters show` shows them.
CREATE OR REPLACE TEMP TABLE ev_assigned AS
WITH members AS (
    SELECT e.event_id, e.first_loaded_at, coalesce(r.root, e.grp) AS comp
    FROM ev_events e
    LEFT JOIN ev_roots r ON r.grp = e.grp
), leads AS (
    -- a record alone in its group joins no event: grouped, not windowed (a window sorts a
    -- million records of a day of GDELT; a hash aggregate does not)
    SELECT comp, arg_min(event_id, (first_loaded_at, event_id)) AS first
    FROM members
    GROUP BY comp
    HAVING count(*) > 1
), led AS (
    SELECT m.*, l.first FROM members m JOIN leads l USING (comp)
), undone AS (
    SELECT event_a, event_b FROM v_event_links WHERE decision = 'undone'
), parted AS MATERIALIZED (
    -- the few records a pair was undone for, found before they are paired with the others
    -- of their group (paired first, a day of GDELT's groups make hundreds of millions of pairs)
    SELECT * FROM led WHERE event_id IN (SELECT event_a FROM undone UNION SELECT event_b FROM undone)
), apart AS (
    -- a record some pair was undone for follows the first record it was not undone with
    -- (itself, when it was undone with every earlier one)
    SELECT m.event_id, arg_min(c.event_id, (c.first_loaded_at, c.event_id)) AS lead
    FROM parted m
    JOIN led c ON c.comp = m.comp
    WHERE NOT EXISTS (SELECT 1 FROM undone u
                      WHERE u.event_a = least(m.event_id, c.event_id) AND u.event_b = greatest(m.event_id, c.event_id))
    GROUP BY m.event_id
), kept AS (
    SELECT l.event_id, coalesce(a.lead, l.first) AS lead
    FROM led l
    LEFT JOIN apart a USING (event_id)
)
SELECT event_id, lead
FROM kept
WHERE lead IN (SELECT lead FROM kept GROUP BY lead HAVING count(*) > 1);

-- The events the worked records were in. Each row of event_clusters holds its record's day
-- as it is now (a record that changes day is worked, and its row written again), so a worked
-- record's row lies on one of the touched days, $first_day .. $last_day (from the loader),
-- and the zone maps of a decade's event_clusters skip every other row group; a record loaded
-- before and changed since (or named by hand) is looked up by its id, since its row may hold
-- the day it had.
CREATE OR REPLACE TEMP TABLE ev_old AS
SELECT event_id, cluster_id, day FROM event_clusters WHERE day BETWEEN $first_day AND $last_day
UNION
SELECT event_id, cluster_id, day FROM event_clusters WHERE event_id IN (SELECT event_id FROM ev_pending WHERE known);

-- what changes: a worked record that joins an event, moves to another, or leaves one; or
-- stays in its event on another day
CREATE OR REPLACE TEMP TABLE ev_changed AS
SELECT w.event_id, c.cluster_id AS was, 'ecl_' || substr(a.lead, 5) AS now, e.day
FROM ev_worked w
LEFT JOIN ev_old c USING (event_id)
LEFT JOIN ev_assigned a USING (event_id)
LEFT JOIN ev_events e USING (event_id)
WHERE c.cluster_id IS DISTINCT FROM 'ecl_' || substr(a.lead, 5)
   OR (a.lead IS NOT NULL AND c.day IS DISTINCT FROM e.day);

-- each row ev_old found, by the way it found it
DELETE FROM event_clusters
WHERE day BETWEEN $first_day AND $last_day AND event_id IN (SELECT event_id FROM ev_changed WHERE was IS NOT NULL);

DELETE FROM event_clusters
WHERE event_id IN (SELECT event_id FROM ev_changed
                   WHERE was IS NOT NULL AND event_id IN (SELECT event_id FROM ev_pending WHERE known));

-- in order of day: a row group holds a few days' events (see sql/migrations/0004_*.sql)
INSERT INTO event_clusters (event_id, cluster_id, day)
SELECT event_id, now, day FROM ev_changed WHERE now IS NOT NULL ORDER BY day, now;

-- a record whose event lost every other record is an event of its own again
DELETE FROM event_clusters
WHERE cluster_id IN (SELECT cluster_id FROM event_clusters
                     WHERE cluster_id IN (SELECT was FROM ev_changed)
                     GROUP BY cluster_id HAVING count(*) = 1)
