-- Schema 3 -> 4: each event_clusters row keeps its record's day, so event identity looks up
-- the events of the days a run touched without reading the whole table (a decade of GDELT
-- puts about 90M rows there). The day is middle_day's (sql/schema.sql), written out: a
-- store of schema 3 may predate the macro, which is made after the migrations.
ALTER TABLE event_clusters ADD COLUMN IF NOT EXISTS day DATE;

UPDATE event_clusters AS c
SET day = DATE '1970-01-01' + CAST(
    (epoch_us(e.occurred_at) + epoch_us(e.occurred_latest)) // (2 * 86400000000)
    - CASE WHEN (epoch_us(e.occurred_at) + epoch_us(e.occurred_latest)) % (2 * 86400000000) < 0 THEN 1 ELSE 0 END
    AS INTEGER)
FROM diplomatic_events AS e
WHERE e.event_id = c.event_id;
