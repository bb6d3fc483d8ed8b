-- Security telemetry (CEF, ECS, OCSF, Suricata EVE) staged inside DuckDB, run by
-- ingest/load/staging.py. Values are bound $parameters. A log of any size is read and merged a
-- chunk of lines at a time, so it needs a chunk's memory: DuckDB reads the lines (read); for
-- each chunk (tl_chunk: line, raw) the format's own SQL (sql/telemetry/<format>.sql: the table
-- macro tl_format) parses them and the checks every alert must pass follow (parse: tl_all, as
-- Arrow); the loader keeps the chunk's rejects and hands its lines to the merge
-- (sql/merge_chunk.sql), which inserts the alerts among them into the store, inside the file's
-- one transaction.

/* each file */
-- From nothing, also when the file is read again (from a clean copy).
DROP TABLE IF EXISTS tl_ips;
DROP TABLE IF EXISTS tl_seen;
DROP TABLE IF EXISTS tl_categories;
DROP TABLE IF EXISTS tl_repeats;
CREATE TEMP TABLE tl_seen (digest VARCHAR, n BIGINT);
CREATE TEMP TABLE tl_categories (category_raw VARCHAR, signature VARCHAR, category VARCHAR);

/* repeated lines */
-- The texts found more than once in the file (the lines of formats whose lines may lack an id):
-- their copies are numbered across chunks. The lines as `read` gives them.
CREATE TEMP TABLE tl_repeats AS
SELECT hash(raw) AS h
FROM (
    SELECT CASE WHEN suffix(column0, chr(13)) THEN left(column0, -1) ELSE column0 END AS raw
    FROM read_csv($path, columns = {'column0': 'VARCHAR'}, delim = '\x1e', header = false, quote = '',
                  escape = '', new_line = '\n', auto_detect = false, compression = $compression)
)
GROUP BY ALL HAVING count(*) > 1;

/* no repeated lines */
CREATE TEMP TABLE tl_repeats (h UBIGINT);

/* read */
SELECT CASE WHEN suffix(column0, chr(13)) THEN left(column0, -1) ELSE column0 END AS raw  -- CRLF; rtrim() is 3x slower
FROM read_csv($path, columns = {'column0': 'VARCHAR'}, delim = '\x1e', header = false, quote = '',
              escape = '', new_line = '\n', auto_detect = false, compression = $compression);

/* each chunk */
CREATE OR REPLACE TEMP VIEW tl_lines AS
SELECT line, raw FROM tl_chunk WHERE raw <> '' AND (ascii(raw) > 32 OR trim(raw) <> '');

-- A line without an id of its format's is known by its digest and how many times the same
-- text came before it in the file: this chunk's copies are numbered after the earlier
-- chunks' (tl_seen keeps the count of the texts the first pass found more than once).
-- Formats whose lines all have ids skip this ($digests false).
CREATE OR REPLACE TEMP TABLE tl_digests AS
SELECT l.line, l.digest || ':' || (row_number() OVER (PARTITION BY l.digest ORDER BY l.line) + coalesce(s.n, 0))
    AS digest_ref
FROM (SELECT line, md5(raw) AS digest FROM tl_lines WHERE $digests) l
LEFT JOIN tl_seen s ON s.digest = l.digest;

-- Addresses repeat (a flood's targets, its sources): each distinct one is read once in the
-- file (tl_ips keeps them for the chunks after).
CREATE TEMP TABLE IF NOT EXISTS tl_ips (ip VARCHAR, num UHUGEINT);

/* parse */
-- The format's own query parses the chunk's lines in one pass, and the checks every alert
-- must pass follow in the same statement; its result (tl_all) comes back as Arrow, for the
-- statements below and the merge to read: a temporary table of it cost more to make than
-- all of them together. A line's text is kept only when it is bad (the loader reads back
-- the few others the merge rejects): a log's text twice over would not fit the memory an
-- ingest is given.
-- The format's query gives, per line: line, raw, problem_field and problem (the format's own
-- complaint, NULL when it has none), skip (why a valid line is not an alert: a Suricata
-- flow record), ref (the format's own id, NULL: a digest of the line), observed_at,
-- product, signature, signature_id, severity (low..critical), severity_raw, category_raw
-- (the words the attack type is read from), action, src_ip, src_port, dst_ip, dst_port
-- (text, checked here), dst_host, url, target_org, event_count (text), message.
WITH parsed AS (
    SELECT * EXCLUDE (raw), CASE WHEN problem IS NOT NULL THEN raw END AS raw, hash(raw) AS content_hash
    FROM tl_format($zone)
), typed AS (
    SELECT
        p.*,
        b.digest_ref,
        coalesce(s.num, ip_num(p.src_ip)) AS src_num, coalesce(d.num, ip_num(p.dst_ip)) AS dst_num,
        TRY_CAST(p.src_port AS INTEGER) AS sport, TRY_CAST(p.dst_port AS INTEGER) AS dport,
        CASE WHEN p.event_count IS NULL THEN 1 ELSE TRY_CAST(p.event_count AS BIGINT) END AS n
    FROM parsed p
    LEFT JOIN tl_digests b ON b.line = p.line
    LEFT JOIN tl_ips s ON s.ip = p.src_ip
    LEFT JOIN tl_ips d ON d.ip = p.dst_ip
), checked AS (
    SELECT
        *,
        CASE
            WHEN problem IS NOT NULL THEN coalesce(problem_field, '(record)')
            WHEN skip IS NOT NULL THEN NULL
            WHEN observed_at IS NULL THEN 'observed_at'
            WHEN observed_at < TIMESTAMPTZ '1990-01-01 00:00:00+00' OR observed_at > $latest THEN 'observed_at'
            WHEN src_ip IS NOT NULL AND src_num IS NULL THEN 'src_ip'
            WHEN dst_ip IS NOT NULL AND dst_num IS NULL THEN 'dst_ip'
            -- a port and a count are written in digits: DuckDB's cast would also take '1.5' (as
            -- 2), '1e3', '0x1bb' and '1_000'
            WHEN src_port IS NOT NULL AND (sport IS NULL OR sport NOT BETWEEN 0 AND 65535 OR sport::VARCHAR <> src_port)
                THEN 'src_port'
            WHEN dst_port IS NOT NULL AND (dport IS NULL OR dport NOT BETWEEN 0 AND 65535 OR dport::VARCHAR <> dst_port)
                THEN 'dst_port'
            WHEN n IS NULL OR n < 1 OR n::VARCHAR <> event_count THEN 'event_count'
        END AS bad_field
    FROM typed
)
SELECT
    line, NULL::VARCHAR AS pointer, bad_field,
    CASE
        WHEN problem IS NOT NULL THEN problem
        WHEN bad_field = 'observed_at' AND observed_at IS NULL THEN 'no time: every alert needs one'
        WHEN bad_field = 'observed_at' THEN strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ')
            || ' is outside 1990 .. tomorrow: an epoch in the wrong unit?'
        WHEN bad_field = 'src_ip' THEN '''' || src_ip || ''' is not an IPv4 or IPv6 address' || zero_octet_hint(src_ip)
        WHEN bad_field = 'dst_ip' THEN '''' || dst_ip || ''' is not an IPv4 or IPv6 address' || zero_octet_hint(dst_ip)
        WHEN bad_field = 'src_port' THEN '''' || src_port || ''' is not a port (0-65535)'
        WHEN bad_field = 'dst_port' THEN '''' || dst_port || ''' is not a port (0-65535)'
        WHEN bad_field = 'event_count' THEN '''' || event_count || ''' is not a count of events (1 or more)'
    END AS reason,
    CASE WHEN bad_field IS NOT NULL THEN raw END AS raw,
    bad_field IS NULL AND skip IS NOT NULL AS skipped, skip,
    coalesce(ref, digest_ref) AS source_ref, ref IS NULL AS by_digest,
    observed_at, product, signature, signature_id, severity, severity_raw, category_raw, action,
    src_ip, src_num AS src_ip_num, sport AS src_port, dst_ip, dst_num AS dst_ip_num, dport AS dst_port,
    -- a host as the attacked site is named: lower case, without a port (a Host header's
    -- "www.mil.gov.ua:8080"), a final dot or an IPv6 literal's brackets
    CASE WHEN contains(dst_host, ':') OR suffix(dst_host, '.') OR starts_with(dst_host, '[')
        THEN regexp_replace(regexp_replace(lower(dst_host), '^\[([0-9a-f:.]+)\](:[0-9]+)?$', '\1'),
                            '^([^:\[\]]+?)\.?(:[0-9]+)?$', '\1')
        ELSE lower(dst_host) END AS dst_host,
    url, target_org, n AS event_count, message,
    content_hash
FROM checked;

/* after parse */
-- Up to about a million addresses are kept: a flood from spoofed sources brings new ones on
-- every line, and an ever-growing cache would cost more to keep than reading them again.
INSERT INTO tl_ips
SELECT DISTINCT ip, num
FROM (SELECT src_ip AS ip, src_ip_num AS num FROM tl_all UNION ALL SELECT dst_ip, dst_ip_num FROM tl_all) n
WHERE ip IS NOT NULL AND num IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tl_ips k WHERE k.ip = n.ip)
  AND (SELECT count(*) FROM tl_ips) < 1048576;

CREATE OR REPLACE TEMP TABLE tl_seen AS
SELECT digest, sum(n) AS n
FROM (
    SELECT digest, n FROM tl_seen
    UNION ALL
    SELECT left(source_ref, 32), count(*) FROM tl_all
    WHERE by_digest AND content_hash IN (SELECT h FROM tl_repeats)
    GROUP BY ALL
)
GROUP BY digest;

-- The words each alert's attack type is read from, once per distinct pair in the file: the
-- module maps the new ones through ingest/data/vocabulary.csv (as every other format) into
-- tl_categories.
CREATE OR REPLACE TEMP TABLE tl_terms AS
SELECT DISTINCT category_raw, signature FROM tl_all a
WHERE bad_field IS NULL AND NOT skipped AND NOT EXISTS (
    SELECT 1 FROM tl_categories c
    WHERE c.category_raw IS NOT DISTINCT FROM a.category_raw AND c.signature IS NOT DISTINCT FROM a.signature
);

/* rejects */
SELECT line, NULL::VARCHAR AS pointer, bad_field AS field, reason,
       json_array(json_object('field', bad_field, 'reason', reason))::VARCHAR AS errors, raw
FROM tl_all
WHERE bad_field IS NOT NULL;

/* skipped */
SELECT skip, count(*) FROM tl_all WHERE skipped GROUP BY skip ORDER BY skip;  -- one order every run
