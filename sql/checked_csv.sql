-- What every curated CSV checked inside DuckDB shares, run by ingest/load/checked.py around
-- the format's own SQL file (sql/incidents_csv.sql, sql/events_csv.sql): the file's lines, the
-- cells of each line SQL can read as Python's reader would (ck_cells), and the times in the
-- forms SQL reads as canon/times.py does (ck_times, from the format's ck_time_texts). A row
-- SQL cannot vouch for is left to the format's pydantic model, which stores or explains it.

/* lines */
-- The file's lines as DuckDB reads them; its rowid is the line's position (line 1: header).
CREATE OR REPLACE TEMP TABLE ck_raw AS
SELECT column0 AS raw
FROM read_csv($path, columns = {'column0': 'VARCHAR'}, delim = '\x1e', header = false, quote = '',
              escape = '', new_line = $new_line, auto_detect = false);

/* shape */
-- Whether every record is one line, as Python's reader would find them: a line with an odd
-- number of quotes may open a cell that goes on over the next lines, and a carriage return
-- left inside a line is a line break to Python; either way the careful path reads the file.
SELECT
    count(raw) FILTER (WHERE rowid > 0) AS records,
    count(*) AS lines,
    coalesce(bool_or((length(raw) - length(replace(raw, '"', ''))) % 2 = 1
                     OR contains(raw, chr(13)) OR contains(raw, chr(10))), false) AS careful
FROM ck_raw;

/* cells */
-- a cell as the model reads it: the text, NULL when blank
CREATE OR REPLACE TEMP MACRO ck_cell(x) AS CASE WHEN trim(x) = '' THEN NULL ELSE x END;
-- a stripped `;` list as the model reads it: its items stripped, a blank one NULL
CREATE OR REPLACE TEMP MACRO ck_items(x) AS
    CASE WHEN x IS NULL THEN []::VARCHAR[] WHEN NOT contains(x, ';') THEN [x]
         ELSE list_transform(string_split(x, ';'), lambda i: nullif(trim(i), '')) END;
-- every item true (an empty list: none false)
CREATE OR REPLACE TEMP MACRO ck_every(bools) AS coalesce(list_bool_and(bools), true);

-- a value as the digests write it: NULL as chr(30), which no row SQL stages holds
CREATE OR REPLACE TEMP MACRO ck_said(x) AS coalesce(x::VARCHAR, chr(30));

-- The line's cells, when it is one Python's reader and the model read as SQL does:
-- every cell unquoted or quoted whole (inner quotes doubled), no whitespace but the
-- space (Python strips it, DuckDB's trim does not), no NUL, not too long for Python's
-- reader; and as many cells as the header names. Else the model sees the line. The
-- commas inside quotes are hidden (as chr(31), which such a line cannot hold) while
-- the line is split on the others, then put back, and each quoted cell unquoted.
-- (a view: the format's rows read it once, in the same pass)
CREATE OR REPLACE TEMP VIEW ck_cells AS
SELECT line, raw, shape_ok, f  -- the format's rows check the count of cells
FROM (
    SELECT
        line, raw, shape_ok,
        CASE WHEN NOT shape_ok THEN []::VARCHAR[]
             WHEN NOT contains(raw, '"') THEN string_split(raw, ',')
             ELSE list_transform(
                 string_split(array_to_string(list_transform(string_split(raw, '"'),
                     lambda s, i: CASE WHEN i % 2 = 0 THEN replace(s, ',', chr(31)) ELSE s END), '"'), ','),
                 lambda p: CASE WHEN starts_with(p, '"') THEN replace(replace(p[2:-2], chr(31), ','), '""', '"')
                                ELSE p END) END AS f
    FROM (
        SELECT rowid + 1 AS line, raw,
               length(raw) <= 1000000 AND regexp_full_match(raw, '(?:"(?:[^"\x00\t\x0b\x0c\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]|"")*"|[^",\x00\t\x0b\x0c\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*)(?:,(?:"(?:[^"\x00\t\x0b\x0c\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]|"")*"|[^",\x00\t\x0b\x0c\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*))*') AS shape_ok
        FROM ck_raw
        WHERE rowid > 0 AND raw IS NOT NULL  -- the header; a blank line is not a record
    )
);

/* times */
-- Each distinct (text, precision) once: the ISO 8601 forms analysts write most, with Z or
-- an offset like +02:00 on a time, as canon/times.py reads them. Any other form is NULL here
-- and its row goes to Python, which reads it or says why not.
CREATE OR REPLACE TEMP TABLE ck_times AS
WITH given AS (
    SELECT DISTINCT text, given FROM ck_time_texts
), forms AS (
    SELECT text, given, trim(text) AS t,
        CASE
            WHEN regexp_full_match(trim(text), '\d{4}') THEN 'year'
            WHEN regexp_full_match(trim(text), '\d{4}-\d{2}') THEN 'month'
            WHEN regexp_full_match(trim(text), '\d{4}-\d{2}-\d{2}') THEN 'day'
            WHEN regexp_full_match(trim(text), '\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(Z|[+-]([01]\d|2[0-3]):[0-5]\d)')
                THEN 'minute'
            WHEN regexp_full_match(trim(text), '\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(Z|[+-]([01]\d|2[0-3]):[0-5]\d)')
                THEN 'second'
        END AS written
    FROM given WHERE text IS NOT NULL
), parsed AS (
    SELECT
        text, given, written, coalesce(given, written) AS chosen,
        try_strptime(
            CASE written WHEN 'year' THEN t || '-01-01T00:00:00' WHEN 'month' THEN t || '-01T00:00:00'
                         WHEN 'day' THEN t || 'T00:00:00' WHEN 'minute' THEN left(t, 16) || ':00'
                         ELSE left(t, 19) END,
            '%Y-%m-%dT%H:%M:%S') AS local,
        CASE WHEN written IN ('year', 'month', 'day') OR suffix(t, 'Z') THEN 0
             ELSE (CASE WHEN t[-6] = '-' THEN -1 ELSE 1 END) * (t[-5:-4]::INTEGER * 60 + t[-2:-1]::INTEGER)
        END AS offset_minutes
    FROM forms WHERE written IS NOT NULL
), ranked AS (
    SELECT *,
        list_position(['second', 'minute', 'hour', 'day', 'month', 'year'], chosen) AS chosen_rank,
        list_position(['second', 'minute', 'hour', 'day', 'month', 'year'], written) AS written_rank,
        date_trunc(chosen, local) AS start_local
    FROM parsed
    WHERE local IS NOT NULL AND year(local) BETWEEN 2 AND 9998
      AND chosen IN ('second', 'minute', 'hour', 'day', 'month', 'year')
)
SELECT
    text, given,
    (start_local - to_minutes(offset_minutes))::TIMESTAMPTZ AS earliest,
    (start_local + CASE chosen WHEN 'year' THEN INTERVAL 1 YEAR WHEN 'month' THEN INTERVAL 1 MONTH
                               WHEN 'day' THEN INTERVAL 1 DAY WHEN 'hour' THEN INTERVAL 1 HOUR
                               WHEN 'minute' THEN INTERVAL 1 MINUTE ELSE INTERVAL 1 SECOND END
        - to_minutes(offset_minutes))::TIMESTAMPTZ AS latest,
    chosen AS precision
FROM ranked
WHERE chosen_rank >= written_rank;

/* done */
DROP TABLE IF EXISTS ck_raw;
DROP VIEW IF EXISTS ck_cells;
DROP TABLE IF EXISTS ck_time_texts;
DROP TABLE IF EXISTS ck_times;
