-- Schema 1 -> 2. Schema 1 (cyberlog 0.1.0) never moved its version: it completed a store in
-- place each time it opened one for writing, with idempotent ALTERs and UPDATEs that ran
-- again and again. Here they run once, for a store made at any point of schema 1: each step
-- changes nothing where it was already done, so a store 0.1.0 wrote gets the version alone.
-- (A store made before a table existed got it from 0.1.0's CREATE TABLE IF NOT EXISTS:
-- open it for writing with cyberlog 0.1.0 first.)

-- the version table's digest of the schema files last applied (its first stores had none)
ALTER TABLE schema_version ADD COLUMN IF NOT EXISTS fingerprint VARCHAR;

-- runs from before matching and bursts were recorded: counted as not yet done, once
ALTER TABLE ingest_runs ADD COLUMN IF NOT EXISTS identity_done_at TIMESTAMPTZ;
ALTER TABLE ingest_runs ADD COLUMN IF NOT EXISTS bursts_done_at TIMESTAMPTZ;
ALTER TABLE rejects ADD COLUMN IF NOT EXISTS replayed_at TIMESTAMPTZ;
ALTER TABLE rejects ADD COLUMN IF NOT EXISTS replay_run VARCHAR;
-- unmapped words and every sector of a target: NULL in older rows until their files load
-- again (the views read `sector` then)
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS unmapped_attack_types VARCHAR[];
ALTER TABLE incident_targets ADD COLUMN IF NOT EXISTS sectors VARCHAR[];
ALTER TABLE incident_targets ADD COLUMN IF NOT EXISTS unmapped_sectors VARCHAR[];
ALTER TABLE incident_actors ADD COLUMN IF NOT EXISTS attributed_dated VARCHAR;
ALTER TABLE incident_actors ADD COLUMN IF NOT EXISTS actor_raw VARCHAR;

-- an alert's content_hash was the line's hash() as decimal text: the same number, as one
-- (a store that already has it as a number casts it to itself)
ALTER TABLE alerts ALTER content_hash TYPE UBIGINT;

-- an event recorded before its day was over happened by then (GDELT's DATEADDED): events
-- loaded before intervals were bounded by it are bounded as a new load would bound them
UPDATE diplomatic_events SET occurred_latest = recorded_at
WHERE recorded_at > occurred_at AND recorded_at < occurred_latest;

-- attributions loaded before they said how they are dated: a STIX relationship's created
-- and a MISP event's publication are when the link was written down ('by')
UPDATE incident_actors SET attributed_dated = CASE WHEN file_id IN
    (SELECT file_id FROM ingest_files WHERE format IN ('stix', 'misp')) THEN 'by' ELSE 'on' END
WHERE attributed_at IS NOT NULL AND attributed_dated IS NULL;
