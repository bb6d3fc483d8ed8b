-- Incidents derived from claimed target lists (DDoSia), run by ingest/derive/claims.py after
-- a run's files, over every list of the sources whose lists the run loaded ($sources).
-- Statements are separated by ";\n"; values are bound $parameters.
--
-- The rule: a host named on consecutive lists of one source is one claimed attack, from the
-- first list naming it to the last. A list that does not name it (a `targets: null` list
-- too) ends the run, and a later list naming it again starts another attack; so does a gap
-- of more than $max_gap_hours between two lists, when no one was capturing them. A host is
-- named as the list writes it, lower case and without a trailing dot: `www.x` and `x` are
-- two hosts (the identity rule matches them, ignoring a leading "www.").

-- every list of those sources, numbered in time; lists more than $max_gap_hours apart are
-- not consecutive (the tracker was not polling): `stretch` numbers the spans polled without
-- such a gap
CREATE OR REPLACE TEMP TABLE c_lists AS
SELECT
    source, snapshot_at, n,
    sum(CASE WHEN snapshot_at - previous > to_hours($max_gap_hours) THEN 1 ELSE 0 END)
        OVER (PARTITION BY source ORDER BY n) AS stretch
FROM (
    SELECT
        source, snapshot_at,
        row_number() OVER (PARTITION BY source ORDER BY snapshot_at) AS n,
        lag(snapshot_at) OVER (PARTITION BY source ORDER BY snapshot_at) AS previous
    FROM claim_snapshots
    WHERE list_contains($sources, source)
);

-- each host on each list once, with what the list orders against it
CREATE OR REPLACE TEMP TABLE c_named AS
SELECT
    t.source, t.host, l.n, l.stretch, t.snapshot_at,
    min(t.claimant) AS claimant,
    arg_max(t.file_id, t.loaded_at) AS file_id,
    list(t.port) AS ports,
    list(concat_ws(' ', t.request_type, nullif(t.method, ''))) AS requests,
    count(*) AS orders
FROM claim_targets t
JOIN c_lists l USING (source, snapshot_at)
GROUP BY t.source, t.host, l.n, l.stretch, t.snapshot_at;

-- runs of consecutive lists (gaps and islands: list number minus the host's own count)
CREATE OR REPLACE TEMP TABLE c_runs AS
WITH islands AS (
    SELECT *, n - row_number() OVER (PARTITION BY source, host, stretch ORDER BY n) AS island FROM c_named
)
SELECT
    i.source,
    i.host,
    min(i.claimant) AS claimant,
    min(i.snapshot_at) AS first_seen,
    max(i.snapshot_at) AS last_seen,
    count(*) AS lists,
    max(i.n) AS last_n,
    i.stretch,
    arg_max(i.file_id, i.n) AS file_id,
    list_sort(list_distinct(flatten(list(i.ports)))) AS ports,  -- list_distinct drops NULL
    list_sort(list_distinct(flatten(list(i.requests)))) AS requests,
    sum(i.orders) AS orders
FROM islands i
GROUP BY i.source, i.host, i.stretch, i.island;

-- what each run's lists ordered, and the next list, which no longer names the host (or was
-- captured after a gap: then when the host left the list is not known)
CREATE OR REPLACE TEMP TABLE c_plan AS
SELECT
    r.* EXCLUDE (stretch),
    nxt.snapshot_at AS next_at,
    nxt.stretch = r.stretch AS dropped,
    'ddosia:' || r.host || ':' || strftime(r.first_seen, '%Y-%m-%dT%H:%M:%SZ') AS source_ref,
    'inc_' || left(sha256(r.source || chr(31) || source_ref), 20) AS incident_id  -- as sql/merge.sql keys a ref
FROM c_runs r
LEFT JOIN c_lists nxt ON nxt.source = r.source AND nxt.n = r.last_n + 1;

-- the incidents these sources had that no run gives any more (two runs joined by a late list)
CREATE OR REPLACE TEMP TABLE c_gone AS
SELECT incident_id
FROM incidents
WHERE list_contains($sources, source) AND starts_with(source_ref, 'ddosia:')
  AND incident_id NOT IN (SELECT incident_id FROM c_plan);

/* facts */

-- What each run's incident says (c_hosts: what each host name itself states; c_claimants:
-- each group under its MISP galaxy name; both made by the module). Rows whose content did not change are left alone.
CREATE OR REPLACE TEMP TABLE c_rows AS
SELECT
    p.*,
    'DDoS ordered by ' || p.claimant || ' against ' || p.host AS title,
    'Claimed, not observed: ' || p.host || ' is on '
        || CASE WHEN p.lists = 1 THEN '1 target list' ELSE p.lists || ' consecutive target lists' END
        || ' of ' || p.claimant
        || ' (DDoSia), ' || strftime(p.first_seen, '%Y-%m-%dT%H:%M:%SZ')
        || CASE WHEN p.lists > 1 THEN ' to ' || strftime(p.last_seen, '%Y-%m-%dT%H:%M:%SZ') ELSE '' END
        || CASE WHEN p.dropped THEN '; not on the next list, ' || strftime(p.next_at, '%Y-%m-%dT%H:%M:%SZ')
                WHEN p.next_at IS NOT NULL THEN '; no list was captured in the ' || $max_gap_hours
                    || ' hours after it, so when it left the list is not known'
                ELSE '; still on the newest list' END
        || '; ' || p.orders || CASE WHEN p.orders = 1 THEN ' request' ELSE ' requests' END
        || coalesce(' (' || nullif(array_to_string(p.requests, ', '), '') || ')', '')
        || coalesce(CASE WHEN len(p.ports) = 1 THEN ' on port ' ELSE ' on ports ' END
                    || nullif(array_to_string(p.ports, ', '), ''), '') || '.' AS description,
    h.organisation,
    h.country,
    h.country_raw,
    h.name_words,
    md5(concat_ws('|', p.first_seen, p.last_seen, p.lists, p.next_at, p.dropped, p.ports, p.requests, p.orders,
                  p.claimant, h.organisation, h.country, h.country_raw)) AS content_hash,
    i.content_hash AS old_hash,
    i.first_loaded_at
FROM c_plan p
LEFT JOIN c_hosts h USING (host)
LEFT JOIN incidents i ON i.incident_id = p.incident_id;

CREATE OR REPLACE TEMP TABLE c_counts AS
SELECT
    count(*) FILTER (WHERE old_hash IS NULL) AS inserted,
    count(*) FILTER (WHERE old_hash <> content_hash) AS updated,
    count(*) FILTER (WHERE old_hash = content_hash) AS unchanged,
    (SELECT count(*) FROM c_gone) AS removed
FROM c_rows;

DELETE FROM c_rows WHERE old_hash = content_hash;

DELETE FROM incident_targets
WHERE incident_id IN (SELECT incident_id FROM c_rows UNION ALL SELECT incident_id FROM c_gone);

DELETE FROM incident_actors
WHERE incident_id IN (SELECT incident_id FROM c_rows UNION ALL SELECT incident_id FROM c_gone);

DELETE FROM incidents
WHERE incident_id IN (SELECT incident_id FROM c_rows UNION ALL SELECT incident_id FROM c_gone);

-- started: the first list naming the host, to the second; ended: the last list naming it (the
-- lists are polled, so the order may have stood until the next list: the description says when)
INSERT INTO incidents BY NAME
SELECT
    incident_id, source, source_ref, title, description, ['ddos'] AS attack_types,
    first_seen AS started_at, first_seen + INTERVAL 1 SECOND AS started_latest, 'second' AS time_precision,
    last_seen AS ended_at, last_seen + INTERVAL 1 SECOND AS ended_latest, 'second' AS ended_precision,
    'claimed' AS evidence, NULL AS severity, NULL AS url, last_seen AS source_modified,
    'first target list naming the host' AS time_basis,
    content_hash, $run AS run_id, file_id, NULL AS line, NULL AS pointer,
    coalesce(first_loaded_at, $now) AS first_loaded_at, $now AS loaded_at, [] AS unmapped_attack_types
FROM c_rows;

INSERT INTO incident_targets BY NAME
SELECT
    incident_id, 0 AS position, organisation, host AS domain, country, NULL AS sector, country_raw,
    name_words, $run AS run_id, file_id, [] AS sectors, [] AS unmapped_sectors
FROM c_rows;

-- the group whose list it is claims the attack: its own list names the target
INSERT INTO incident_actors BY NAME
SELECT
    r.incident_id, 0 AS position, c.actor, 'claimed' AS role, NULL AS attributed_by,
    NULL AS attributed_at, NULL AS attributed_latest, NULL AS attributed_precision, NULL AS country,
    NULL AS country_raw, 'hacktivist' AS actor_type, NULL AS motive, $run AS run_id, r.file_id,
    NULL AS attributed_dated, c.actor_raw
FROM c_rows r
JOIN c_claimants c USING (claimant)
