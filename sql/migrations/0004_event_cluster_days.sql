-- Schema 3 -> 4: each event_clusters row keeps its record's day, so event identity looks up
-- the events of the days a run touched without reading the whole table (a decade of GDELT
-- puts about 90M rows there). The day is middle_day's (sql/schema.sql), written out: a
-- store of schema 3 may predate the macro, which is made after the migrations.
-- The table is made again, an eighth of the records at a time: one join of 90M cluster rows
-- to 100M events does not fit the 512 MB an ingest is given, an eighth does (an UPDATE in
-- place would keep every old value in memory). Each eighth is written in order of day: a row
-- group then holds a few days' events, whose zone maps identity reads by, and few cluster
-- ids, which DuckDB stores as a small dictionary (unsorted, counting the store's events
-- took 2.3 s at 100M, sorted 0.5 s).
CREATE TABLE event_clusters_4 (
    event_id     VARCHAR NOT NULL,
    cluster_id   VARCHAR NOT NULL,
    day          DATE
);

CREATE TEMP MACRO ec4_part(k) AS TABLE
SELECT
    c.event_id,
    c.cluster_id,
    DATE '1970-01-01' + CAST(
        (epoch_us(e.occurred_at) + epoch_us(e.occurred_latest)) // (2 * 86400000000)
        - CASE WHEN (epoch_us(e.occurred_at) + epoch_us(e.occurred_latest)) % (2 * 86400000000) < 0 THEN 1 ELSE 0 END
        AS INTEGER) AS day
FROM (SELECT * FROM event_clusters WHERE hash(event_id) % 8 = k) AS c
LEFT JOIN (SELECT event_id, occurred_at, occurred_latest FROM diplomatic_events WHERE hash(event_id) % 8 = k) AS e
    USING (event_id);

INSERT INTO event_clusters_4 SELECT * FROM ec4_part(0) ORDER BY day, cluster_id;
INSERT INTO event_clusters_4 SELECT * FROM ec4_part(1) ORDER BY day, cluster_id;
INSERT INTO event_clusters_4 SELECT * FROM ec4_part(2) ORDER BY day, cluster_id;
INSERT INTO event_clusters_4 SELECT * FROM ec4_part(3) ORDER BY day, cluster_id;
INSERT INTO event_clusters_4 SELECT * FROM ec4_part(4) ORDER BY day, cluster_id;
INSERT INTO event_clusters_4 SELECT * FROM ec4_part(5) ORDER BY day, cluster_id;
INSERT INTO event_clusters_4 SELECT * FROM ec4_part(6) ORDER BY day, cluster_id;
INSERT INTO event_clusters_4 SELECT * FROM ec4_part(7) ORDER BY day, cluster_id;

DROP MACRO TABLE ec4_part;

DROP TABLE event_clusters;

ALTER TABLE event_clusters_4 RENAME TO event_clusters;
