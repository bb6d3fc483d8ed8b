-- cyberlog store schema at the latest version (SCHEMA_VERSION in ingest/store.py): a new
-- store is made from it in one go; an older store gets there by sql/migrations/, in order,
-- and tests/test_migrations.py holds the two equal. Change a table here and in a new
-- migration together. The macros at the end are replaced whenever this file changes.
-- Times are TIMESTAMPTZ in UTC. A time known only to a day (or month, year) is stored as
-- the interval [x_at, x_latest) with its precision, never as a fake midnight instant.

CREATE TABLE schema_version (
    version      INTEGER NOT NULL,
    applied_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    fingerprint  VARCHAR               -- digest of the schema files and CAMEO data applied
);

-- One row per `cyberlog ingest` or `cyberlog nightly` invocation that opened the store.
CREATE TABLE ingest_runs (
    run_id            VARCHAR PRIMARY KEY,
    command           VARCHAR NOT NULL,        -- ingest | nightly
    config_path       VARCHAR,
    cyberlog_version  VARCHAR NOT NULL,
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,             -- NULL: the run is going on, or was killed
    exit_code         INTEGER,
    files_loaded      INTEGER,
    files_skipped     INTEGER,
    files_failed      INTEGER,
    records_read      BIGINT,
    inserted          BIGINT,
    updated           BIGINT,
    unchanged         BIGINT,
    rejected          BIGINT,
    identity_done_at  TIMESTAMPTZ,             -- cross-source matching covered this run's incidents
    bursts_done_at    TIMESTAMPTZ              -- derived incidents cover this run's alerts
);

-- One row per source a run touched: what it loaded, skipped and rejected (ingest_health).
CREATE TABLE ingest_run_sources (
    run_id           VARCHAR NOT NULL,
    source           VARCHAR NOT NULL,
    files_loaded     INTEGER NOT NULL,
    files_skipped    INTEGER NOT NULL,
    files_failed     INTEGER NOT NULL,
    records_read     BIGINT NOT NULL,
    inserted         BIGINT NOT NULL,
    updated          BIGINT NOT NULL,
    rejected         BIGINT NOT NULL,
    records_skipped  BIGINT NOT NULL
);

-- One row per file a run read: loaded (perhaps with rejects) or failed (unreadable).
-- Files skipped because the same bytes were loaded before get no row; the run counts them.
CREATE TABLE ingest_files (
    file_id       VARCHAR PRIMARY KEY,
    run_id        VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,
    format        VARCHAR,
    path          VARCHAR NOT NULL,
    sha256        VARCHAR,
    size_bytes    BIGINT,
    mtime_ns      BIGINT,
    status        VARCHAR NOT NULL CHECK (status IN ('loaded', 'failed')),
    error         VARCHAR,
    records_read  BIGINT NOT NULL DEFAULT 0,
    inserted      BIGINT NOT NULL DEFAULT 0,
    updated       BIGINT NOT NULL DEFAULT 0,
    unchanged     BIGINT NOT NULL DEFAULT 0,
    rejected      BIGINT NOT NULL DEFAULT 0,
    skipped       BIGINT NOT NULL DEFAULT 0,  -- records read but not for us (see skip_reasons)
    skip_reasons  JSON,                       -- {reason: count}, e.g. {"STIX indicator (not used)": 12}
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ NOT NULL
);

-- Records that failed validation: where (line for text, pointer for JSON), which field, why.
CREATE TABLE rejects (
    run_id       VARCHAR NOT NULL,
    file_id      VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    format       VARCHAR NOT NULL,
    path         VARCHAR NOT NULL,
    line         BIGINT,
    pointer      VARCHAR,
    field        VARCHAR,
    reason       VARCHAR NOT NULL,
    errors       JSON,                      -- every error of the record: [{field, reason}]
    raw          VARCHAR,
    rejected_at  TIMESTAMPTZ NOT NULL,
    replayed_at  TIMESTAMPTZ,               -- `rejects replay` re-validated the record: it loaded or was rejected anew
    replay_run   VARCHAR                    -- the run that did it
);

-- Every vocabulary in a CHECK here is one of ingest/records.py's VOCABULARIES, and
-- tests/test_params.py holds the two equal. DuckDB cannot add a constraint to an existing
-- table: a store made before a CHECK was written keeps its table without it (what cyberlog
-- writes is mapped into the vocabularies before it is stored either way).
--
-- incidents and diplomatic_events carry no index: DuckDB maintains one per inserted row,
-- which would make a day of GDELT load several times slower. One row per (source,
-- source_ref) is the merge's job (sql/merge.sql), and the tests check it.
CREATE TABLE incidents (
    incident_id      VARCHAR NOT NULL,      -- 'inc_' + hash of (source, source_ref): stable
    source           VARCHAR NOT NULL,
    source_ref       VARCHAR NOT NULL,
    title            VARCHAR NOT NULL,
    description      VARCHAR,
    attack_types     VARCHAR[] NOT NULL CHECK (list_has_all(['ddos', 'defacement', 'wiper', 'ransomware',
        'phishing', 'intrusion', 'data_leak', 'other'], attack_types)),
    started_at       TIMESTAMPTZ NOT NULL,
    started_latest   TIMESTAMPTZ NOT NULL,
    time_precision   VARCHAR NOT NULL
        CHECK (time_precision IN ('second', 'minute', 'hour', 'day', 'month', 'year')),
    ended_at         TIMESTAMPTZ,
    ended_latest     TIMESTAMPTZ,
    ended_precision  VARCHAR,
    evidence         VARCHAR NOT NULL CHECK (evidence IN ('claimed', 'reported', 'confirmed')),
    severity         VARCHAR CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    url              VARCHAR,
    source_modified  TIMESTAMPTZ,
    time_basis       VARCHAR,               -- what started_at was read from, when not a plain start time
    content_hash     VARCHAR NOT NULL,
    run_id           VARCHAR NOT NULL,
    file_id          VARCHAR NOT NULL,
    line             BIGINT,
    pointer          VARCHAR,
    first_loaded_at  TIMESTAMPTZ NOT NULL,
    loaded_at        TIMESTAMPTZ NOT NULL,
    -- the source's attack-type words no vocabulary maps, as written ([] when all map; see
    -- v_unmapped_terms)
    unmapped_attack_types VARCHAR[]
);

CREATE TABLE incident_targets (
    incident_id   VARCHAR NOT NULL,
    position      INTEGER NOT NULL,
    organisation  VARCHAR,
    domain        VARCHAR,
    country       VARCHAR,                  -- ISO 3166-1 alpha-3
    sector        VARCHAR CHECK (sector IN ('government', 'military', 'finance', 'energy',
        'telecom', 'media', 'transport', 'health', 'education', 'other')),
    country_raw   VARCHAR,                  -- the source's own country value, when not alpha-3
    name_words    VARCHAR[],                -- organisation name as matching words (ingest/identity.py)
    run_id        VARCHAR NOT NULL,
    file_id       VARCHAR NOT NULL,
    -- every sector the source gives for the target (`sector` is the first)
    sectors       VARCHAR[] CHECK (list_has_all(['government', 'military', 'finance', 'energy',
        'telecom', 'media', 'transport', 'health', 'education', 'other'], sectors)),
    -- the source's sector words (a VERIS NAICS code) no vocabulary maps, as written
    unmapped_sectors VARCHAR[],
    PRIMARY KEY (incident_id, position)
);

CREATE TABLE incident_actors (
    incident_id           VARCHAR NOT NULL,
    position              INTEGER NOT NULL,
    actor                 VARCHAR NOT NULL,
    role                  VARCHAR NOT NULL CHECK (role IN ('attributed', 'claimed', 'suspected')),
    attributed_by         VARCHAR,
    attributed_at         TIMESTAMPTZ,
    attributed_latest     TIMESTAMPTZ,
    attributed_precision  VARCHAR,
    country               VARCHAR,          -- the actor's (or its sponsor's) country, alpha-3
    country_raw           VARCHAR,
    actor_type            VARCHAR,          -- the source's words: nation-state, activist, crime ...
    motive                VARCHAR,
    run_id                VARCHAR NOT NULL,
    file_id               VARCHAR NOT NULL,
    -- 'on': attributed_at is the attribution's own date; 'by': only when the source wrote
    -- the link down (STIX relationship created, MISP publication): it came no later
    attributed_dated      VARCHAR,
    -- `actor` is the canonical name (MISP galaxy synonyms: "Fancy Bear" is APT28); the name
    -- as the source wrote it, when that differs
    actor_raw             VARCHAR,
    PRIMARY KEY (incident_id, position)
);

CREATE TABLE diplomatic_events (
    event_id         VARCHAR NOT NULL,      -- 'evt_' + hash of (source, source_ref): stable
    source           VARCHAR NOT NULL,
    source_ref       VARCHAR NOT NULL,
    occurred_at      TIMESTAMPTZ NOT NULL,
    occurred_latest  TIMESTAMPTZ NOT NULL,
    time_precision   VARCHAR NOT NULL
        CHECK (time_precision IN ('second', 'minute', 'hour', 'day', 'month', 'year')),
    title            VARCHAR NOT NULL,
    event_class      VARCHAR NOT NULL CHECK (event_class IN ('talks', 'visit', 'statement',
        'agreement', 'sanction', 'recognition', 'threat', 'attribution', 'military', 'other')),
    cameo_code       VARCHAR,               -- text: leading zeros matter (042 is not 42)
    actor_countries  VARCHAR[] NOT NULL,    -- ISO 3166-1 alpha-3
    location         VARCHAR,
    url              VARCHAR,
    description      VARCHAR,
    -- coded event data (GDELT, ICEWS, ACLED): who did what to whom, how strongly, where
    actor1           VARCHAR,               -- the source's name for the actor
    actor1_code      VARCHAR,               -- the source's own code: CAMEO RUSGOV, ICEWS sectors ...
    actor1_country   VARCHAR,               -- ISO 3166-1 alpha-3
    actor1_role      VARCHAR,               -- GOV, MIL, ... or the source's words
    actor2           VARCHAR,
    actor2_code      VARCHAR,
    actor2_country   VARCHAR,
    actor2_role      VARCHAR,
    quad_class       TINYINT,               -- CAMEO QuadClass: 1 verbal coop ... 4 material conflict
    goldstein        DOUBLE,                -- -10 (conflict) .. +10 (cooperation); ICEWS intensity
    mentions         INTEGER,
    sources          INTEGER,
    articles         INTEGER,
    tone             DOUBLE,
    location_country VARCHAR,               -- where it happened, alpha-3 (GDELT: from FIPS)
    latitude         DOUBLE,
    longitude        DOUBLE,
    recorded_at      TIMESTAMPTZ,           -- when the source recorded it (GDELT DATEADDED), UTC
    source_modified  TIMESTAMPTZ,
    content_hash     VARCHAR NOT NULL,
    run_id           VARCHAR NOT NULL,
    file_id          VARCHAR NOT NULL,
    line             BIGINT,
    pointer          VARCHAR,
    first_loaded_at  TIMESTAMPTZ NOT NULL,
    loaded_at        TIMESTAMPTZ NOT NULL,
    -- kinetic event data (UCDP GED): deaths as the source estimates them, low <= best <= high
    fatalities_best  INTEGER,
    fatalities_low   INTEGER,
    fatalities_high  INTEGER,
    location_precision VARCHAR              -- the source's own precision of the place (UCDP where_prec)
);

-- CAMEO event codes with labels, QuadClass, Goldstein score and cyberlog's event class
-- (ingest/data/cameo_codes.csv + cameo_classes.csv), filled by cyberlog: join on cameo_code.
CREATE TABLE cameo_codes (
    code         VARCHAR PRIMARY KEY,
    label        VARCHAR NOT NULL,
    quad_class   TINYINT NOT NULL,
    goldstein    DOUBLE NOT NULL,
    event_class  VARCHAR NOT NULL
);

-- Cross-source identity. An append-only ledger of decisions about pairs of incidents from
-- different sources: matched by the rule (with its evidence), merged or undone by hand, or
-- stale when the rule stopped holding after an update. The latest decision of a pair is
-- in force (v_incident_links); an undone pair is never matched again by the rule.
CREATE SEQUENCE incident_link_seq;
CREATE TABLE incident_links (
    seq          BIGINT NOT NULL DEFAULT nextval('incident_link_seq'),  -- order of decisions
    incident_a   VARCHAR NOT NULL,         -- the smaller incident_id of the pair
    incident_b   VARCHAR NOT NULL,
    decision     VARCHAR NOT NULL CHECK (decision IN ('matched', 'merged', 'undone', 'stale')),
    rule         VARCHAR NOT NULL,         -- the matching rule and its version, or 'by hand'
    evidence     JSON,                     -- what matched: targets, time gap, attack types
    note         VARCHAR,
    decided_at   TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR                   -- the ingest run that decided, NULL when by hand
);

-- Incidents in a cluster of two or more records; derived from the links in force after
-- every change. An incident not listed here is a cluster of its own.
CREATE TABLE incident_clusters (
    incident_id  VARCHAR PRIMARY KEY,
    cluster_id   VARCHAR NOT NULL
);

-- Event identity, kept like incident identity: one real-world event (a meeting, a vote)
-- that several event feeds or several rows of one feed record (sql/event_identity.sql).
-- The rule joins each record of an event to the event's first-loaded record; its links
-- follow from the records and are not stored (a coded feed gives one per row). The ledger
-- keeps the decisions by hand (`cyberlog clusters merge/undo evt_... evt_...`).
CREATE SEQUENCE event_link_seq;
CREATE TABLE event_links (
    seq          BIGINT NOT NULL DEFAULT nextval('event_link_seq'),
    event_a      VARCHAR NOT NULL,         -- the smaller event_id of the pair
    event_b      VARCHAR NOT NULL,
    decision     VARCHAR NOT NULL CHECK (decision IN ('matched', 'merged', 'undone', 'stale')),
    rule         VARCHAR NOT NULL,
    evidence     JSON,                     -- what matched: day, class, actor countries, URL
    note         VARCHAR,
    decided_at   TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR
);

-- Events in a cluster of two or more records; an event not listed is a cluster of its own.
CREATE TABLE event_clusters (
    event_id     VARCHAR NOT NULL,      -- one row each (no index: coded feeds put most records here)
    cluster_id   VARCHAR NOT NULL,
    day          DATE                   -- the record's day (middle_day of its interval): its zone
                                        -- maps let identity read only the days a run touched
);

-- Security telemetry: one row per alert of a WAF, IDS or SIEM (CEF, ECS, OCSF, Suricata
-- EVE). Like every record: stable id, provenance, ledger, rejects. No index, as for
-- incidents: the merge keeps (source, source_ref) unique.
CREATE TABLE alerts (
    alert_id         VARCHAR NOT NULL,      -- 'alr_' + hash of (source, source_ref): stable
    source           VARCHAR NOT NULL,
    source_ref       VARCHAR NOT NULL,      -- the format's own id, else a digest of the alert
    observed_at      TIMESTAMPTZ NOT NULL,  -- when the alert fired, UTC
    product          VARCHAR,               -- vendor and product that raised it: "Suricata", "Example WAF"
    signature        VARCHAR,               -- rule or signature name
    signature_id     VARCHAR,
    severity         VARCHAR CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    severity_raw     VARCHAR,               -- the producer's own value and scale
    category         VARCHAR NOT NULL CHECK (category IN ('ddos', 'defacement', 'wiper', 'ransomware',
        'phishing', 'intrusion', 'data_leak', 'other')),  -- cyberlog attack type
    category_raw     VARCHAR,
    action           VARCHAR,               -- allowed, blocked, ... as the product says
    src_ip           VARCHAR,
    src_ip_num       UHUGEINT,              -- the address as a number (IPv4 as ::ffff:a.b.c.d): see in_network()
    src_port         INTEGER,
    dst_ip           VARCHAR,
    dst_ip_num       UHUGEINT,
    dst_port         INTEGER,
    dst_host         VARCHAR,               -- destination host or domain, lower case
    url              VARCHAR,
    target_org       VARCHAR,               -- the attacked organisation, when the log names it
    target_key       VARCHAR,               -- what bursts are grouped by: alert_target_key(dst_host, target_org, dst_ip)
    event_count      BIGINT NOT NULL,       -- events the alert stands for (CEF cnt), else 1
    message          VARCHAR,
    source_modified  TIMESTAMPTZ,
    content_hash     UBIGINT NOT NULL,      -- hash() of the line as written
    run_id           VARCHAR NOT NULL,
    file_id          VARCHAR NOT NULL,
    line             BIGINT,
    pointer          VARCHAR,
    first_loaded_at  TIMESTAMPTZ NOT NULL,
    loaded_at        TIMESTAMPTZ NOT NULL
);

-- Remote sources (a `url` in cyberlog.toml): what each has fetched and loaded, so the
-- next nightly fetches only what is new. A row per item: a GDELT batch (item = its URL,
-- version = its MD5), a MISP event (item = its uuid, version = the manifest's timestamp),
-- a TAXII collection (item = 'added_after', version = X-TAXII-Date-Added-Last of the last
-- page loaded), and a list or manifest read whole ('list:' + URL, with its ETag and
-- Last-Modified for the next conditional request). Marked only after the file loaded.
CREATE TABLE fetch_state (
    source         VARCHAR NOT NULL,
    item           VARCHAR NOT NULL,
    version        VARCHAR,
    url            VARCHAR,       -- where it came from (no query string, no credentials)
    etag           VARCHAR,
    last_modified  VARCHAR,
    file_path      VARCHAR,       -- the download, under [fetch] dir (gone when keep = false)
    file_id        VARCHAR,       -- the ingest_files row that loaded it
    run_id         VARCHAR,
    fetched_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, item)
);

-- Claimed target lists (DDoSia): what a group ordered its volunteers to attack, not observed
-- outages. One row per list (snapshot) and one per request on it; incidents are derived from
-- runs of consecutive lists naming a host (sql/claims.sql). Request templates are never kept.
CREATE TABLE claim_snapshots (
    source       VARCHAR NOT NULL,
    snapshot_at  TIMESTAMPTZ NOT NULL,      -- the list's time, from its file's name
    hosts        INTEGER NOT NULL,          -- hosts on it: 0 for `targets: null`
    requests     INTEGER NOT NULL,          -- the requests it orders against them
    run_id       VARCHAR NOT NULL,
    file_id      VARCHAR NOT NULL,
    loaded_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, snapshot_at)
);

CREATE TABLE claim_targets (
    claim_id         VARCHAR NOT NULL,      -- 'clm_' + hash of (source, source_ref)
    source           VARCHAR NOT NULL,
    source_ref       VARCHAR NOT NULL,      -- <request id>@<snapshot time>
    snapshot_at      TIMESTAMPTZ NOT NULL,
    host             VARCHAR NOT NULL,      -- lower case, no trailing dot, "www." kept
    claimant         VARCHAR NOT NULL,      -- whose list it is: NoName057(16)
    ip               VARCHAR,
    port             INTEGER,
    request_type     VARCHAR,               -- http, http2, tcp, udp, nginx_loris ...
    method           VARCHAR,               -- GET, POST, syn, ack, PING, udp_flood ...
    target_id        VARCHAR,               -- the list's own id for the host
    request_id       VARCHAR,
    source_modified  TIMESTAMPTZ,
    content_hash     VARCHAR NOT NULL,
    run_id           VARCHAR NOT NULL,
    file_id          VARCHAR NOT NULL,
    line             BIGINT,
    pointer          VARCHAR,
    first_loaded_at  TIMESTAMPTZ NOT NULL,
    loaded_at        TIMESTAMPTZ NOT NULL
);

-- Settings the store keeps between commands: `[bursts]` from the last nightly's config, so
-- a plain `cyberlog ingest` derives incidents by the same rule.
CREATE TABLE store_settings (
    name    VARCHAR PRIMARY KEY,
    value   JSON NOT NULL,
    set_at  TIMESTAMPTZ NOT NULL
);

-- Incidents derived from bursts of alerts (source 'derived'): the burst's key, counts and
-- the rule that found it. The alerts behind one are v_derived_evidence.
CREATE TABLE derived_incidents (
    incident_id      VARCHAR PRIMARY KEY,
    target_key       VARCHAR NOT NULL,      -- organisation, host or address the alerts hit
    category         VARCHAR NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,  -- first alert
    ended_at         TIMESTAMPTZ NOT NULL,  -- last alert
    alerts           BIGINT NOT NULL,
    peak_per_minute  BIGINT NOT NULL,
    peak_minute      TIMESTAMPTZ NOT NULL,
    top_sources      VARCHAR[] NOT NULL,    -- most frequent source addresses, most first
    alert_sources    VARCHAR[] NOT NULL,    -- the store sources (feeds) the alerts came from
    rule             JSON NOT NULL,         -- the settings that found it
    derived_at       TIMESTAMPTZ NOT NULL
);

-- A pseudo-random number from its arguments, the same on every engine the reports run on
-- (DuckDB's hash() is DuckDB's own; Spark's is another): the first 60 bits of the MD5 of
-- their text joined by ':'. The reports' permutation baselines draw their offsets with it.
CREATE OR REPLACE MACRO portable_hash(a, b) AS (
    CAST('0x' || left(md5(CAST(a AS VARCHAR) || ':' || CAST(b AS VARCHAR)), 15) AS BIGINT)
);

-- A report's URL as the identity rules compare it (sql/identity.sql, event_identity.sql):
-- lower case, without scheme, "www.", fragment, tracking parameters and trailing slash, so
-- a tracker's link with ?utm_source=... is the page a MISP event cites. An http(s) URL
-- without '#', '?' or '&' (most of them) gets the same page without a regular expression,
-- in half the time: a day of GDELT is a million URLs.
CREATE OR REPLACE MACRO report_page_of(lowered) AS (
    CASE
        WHEN contains(lowered, '#') OR contains(lowered, '?') OR contains(lowered, '&') THEN
            regexp_replace(regexp_replace(regexp_replace(lowered, '#.*$', ''),
                '[?&](utm_[a-z_]+|fbclid|gclid|mc_cid|mc_eid)=[^&]*', '', 'g'),
                '^[a-z][a-z0-9+.-]*://(www\.)?|[/?&]+$', '', 'g')
        WHEN starts_with(lowered, 'https://www.') THEN rtrim(substr(lowered, 13), '/')
        WHEN starts_with(lowered, 'https://') THEN rtrim(substr(lowered, 9), '/')
        WHEN starts_with(lowered, 'http://www.') THEN rtrim(substr(lowered, 12), '/')
        WHEN starts_with(lowered, 'http://') THEN rtrim(substr(lowered, 8), '/')
        ELSE regexp_replace(lowered, '^[a-z][a-z0-9+.-]*://(www\.)?|[/?&]+$', '', 'g')
    END
);

CREATE OR REPLACE MACRO report_page(url) AS (report_page_of(lower(url)));

-- The middle of an interval as whole units of `unit_us` microseconds since 1970 (UTC),
-- floored: worked in whole microseconds, without intervals or time zones, it is the exact
-- middle's unit, and the unit CAST(a + (b - a) / 2 ...) gives wherever the middle is a whole
-- microsecond (that form rounds a half to even).
CREATE OR REPLACE MACRO middle_units(first_instant, end_instant, unit_us) AS (
    (epoch_us(first_instant) + epoch_us(end_instant)) // (2 * unit_us)
        - CASE WHEN (epoch_us(first_instant) + epoch_us(end_instant)) % (2 * unit_us) < 0 THEN 1 ELSE 0 END
);

-- The day of the middle of an interval in the zone `tz`, as days since 1970-01-01: what the
-- event studies and lag profiles count by. In UTC (their default) by middle_units, 30 times
-- faster than through intervals and the zone's rules (a decade of GDELT is 100M records);
-- in any other zone, through DuckDB's time zone rules.
CREATE OR REPLACE MACRO day_number(first_instant, end_instant, tz) AS (
    CASE WHEN tz = 'UTC'
         THEN middle_units(first_instant, end_instant, 86400000000)
         ELSE CAST(epoch(CAST(timezone(tz, first_instant + (end_instant - first_instant) / 2) AS DATE)) / 86400
                   AS BIGINT)
    END
);

-- The hour of the middle of an interval, as hours since 1970 (UTC).
CREATE OR REPLACE MACRO hour_number(first_instant, end_instant) AS (
    middle_units(first_instant, end_instant, 3600000000)
);

-- The UTC day of the middle of an interval, as a date (event identity works every record of
-- the days a run touched).
CREATE OR REPLACE MACRO middle_day(first_instant, end_instant) AS (
    DATE '1970-01-01' + CAST(day_number(first_instant, end_instant, 'UTC') AS INTEGER)
);

-- A time as what it is, for people to read (UTC): a day as 2022-02-15, a month as 2022-02,
-- an hour as 2022-02-15T13h, a minute or second as an ISO instant, and an interval a
-- report ended early (GDELT's DATEADDED, a STIX created) as its two ends,
-- 2022-02-15T00:00Z/08:23Z: never a midnight a day-precision record did not claim.
CREATE OR REPLACE MACRO time_text(first_instant, end_instant, unit) AS (
    CASE
        WHEN end_instant < CASE unit WHEN 'year' THEN first_instant + INTERVAL 1 YEAR
                                     WHEN 'month' THEN first_instant + INTERVAL 1 MONTH
                                     WHEN 'day' THEN first_instant + INTERVAL 1 DAY
                                     WHEN 'hour' THEN first_instant + INTERVAL 1 HOUR
                                     WHEN 'minute' THEN first_instant + INTERVAL 1 MINUTE
                                     ELSE first_instant + INTERVAL 1 SECOND END
            THEN strftime(first_instant, '%Y-%m-%dT%H:%MZ') || '/'
                 || CASE WHEN CAST(end_instant AS DATE) = CAST(first_instant AS DATE)
                         THEN strftime(end_instant, '%H:%MZ') ELSE strftime(end_instant, '%Y-%m-%dT%H:%MZ') END
        WHEN unit = 'year' THEN strftime(first_instant, '%Y')
        WHEN unit = 'month' THEN strftime(first_instant, '%Y-%m')
        WHEN unit = 'day' THEN strftime(first_instant, '%Y-%m-%d')
        WHEN unit = 'hour' THEN strftime(first_instant, '%Y-%m-%dT%Hh')
        WHEN unit = 'minute' THEN strftime(first_instant, '%Y-%m-%dT%H:%MZ')
        ELSE strftime(first_instant, '%Y-%m-%dT%H:%M:%SZ')
    END
);

-- What a burst of alerts is grouped by: the attacked host (a leading "www." ignored), else
-- the organisation, else the address.
CREATE OR REPLACE MACRO alert_target_key(dst_host, target_org, dst_ip) AS (
    coalesce(regexp_replace(lower(dst_host), '^www\.', ''), target_org, dst_ip)
);

-- True when an ISO 8601 time ends in a UTC offset (Z, +02, +0200, +02:00) right after its
-- time of day, so a date's "-15" is never taken for one: every telemetry format's times.
-- An offset is at most 23:59 either way: DuckDB would read "+99:00" as 99 hours.
CREATE OR REPLACE MACRO has_utc_offset(t) AS (
    regexp_matches(t, ':[0-9]{2}(\.[0-9]+)?([+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?|Z)$')
);
-- True when a time ends in what is written as an offset but is none (+24:00, +99, +02:75).
CREATE OR REPLACE MACRO bad_utc_offset(t) AS (
    regexp_matches(t, ':[0-9]{2}(\.[0-9]+)?[+-][0-9]{2}(:?[0-9]{2})?$') AND NOT has_utc_offset(t)
);

-- IP addresses as numbers, for network filters in plain SQL. IPv4 maps into IPv6's
-- ::ffff:0:0/96, so one number line holds both. NULL for text that is not an address,
-- and for an IPv4 octet with a leading zero ("010"): octal to inet_aton, decimal to others.
CREATE OR REPLACE MACRO ip_v4_num(ip) AS (
    CASE WHEN regexp_full_match(ip, '(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})') THEN
        TRY_CAST(split_part(ip, '.', 1) AS UTINYINT)::UHUGEINT * 16777216
        + TRY_CAST(split_part(ip, '.', 2) AS UTINYINT)::UHUGEINT * 65536
        + TRY_CAST(split_part(ip, '.', 3) AS UTINYINT)::UHUGEINT * 256
        + TRY_CAST(split_part(ip, '.', 4) AS UTINYINT)::UHUGEINT
    END
);
CREATE OR REPLACE MACRO ip_v6_groups(part) AS (
    CASE WHEN part = '' THEN []::INTEGER[] ELSE list_transform(string_split(part, ':'), lambda h: CASE
        WHEN regexp_full_match(h, '[0-9a-fA-F]{1,4}') THEN TRY_CAST('0x' || h AS INTEGER) ELSE -1 END) END
);
-- an embedded IPv4 tail (::ffff:192.0.2.1) as its two groups
CREATE OR REPLACE MACRO ip_v6_text(ip) AS (
    CASE WHEN contains(ip, '.') THEN regexp_replace(ip, '[^:]*$', '')
        || printf('%x:%x', ip_v4_num(regexp_extract(ip, '[^:]*$')) // 65536, ip_v4_num(regexp_extract(ip, '[^:]*$')) % 65536)
    ELSE ip END
);
-- Each part's text is computed once and bound to a lambda's parameter (list_transform over
-- a one-element list): written out by substitution instead, the macro would repeat it a
-- hundredfold, and a query using it would take a tenth of a second just to plan.
CREATE OR REPLACE MACRO ip_v6_num(ip) AS (
    CASE WHEN NOT regexp_full_match(ip, '[0-9a-fA-F:]*(:[0-9.]+)?') OR NOT contains(ip, ':') THEN NULL
    ELSE list_transform([list_transform(string_split(ip_v6_text(ip), '::'), lambda p: ip_v6_groups(p))],
        lambda parts: CASE
            WHEN len(parts) = 2 AND len(parts[1]) + len(parts[2]) <= 7
                THEN list_concat(parts[1], list_resize([]::INTEGER[], 8 - len(parts[1]) - len(parts[2]), 0), parts[2])
            WHEN len(parts) = 1 AND len(parts[1]) = 8 THEN parts[1]
        END)[1]
    END
);
CREATE OR REPLACE MACRO ip_num(ip) AS (
    CASE WHEN NOT contains(ip, ':') THEN ip_v4_num(ip) + 281470681743360::UHUGEINT  -- 0xffff00000000
    ELSE list_transform([ip_v6_num(ip)], lambda g: CASE WHEN list_min(g) >= 0
        THEN list_reduce(list_transform(g, lambda x: x::UHUGEINT), lambda a, b: a * 65536 + b) END)[1]
    END
);
-- What a reject adds when an IPv4 address was refused for an octet's leading zero.
CREATE OR REPLACE MACRO zero_octet_hint(ip) AS (
    CASE WHEN regexp_full_match(ip, '[0-9]{1,3}(\.[0-9]{1,3}){3}') AND regexp_matches(ip, '(^|\.)0[0-9]')
        THEN ': an octet with a leading zero is octal to some tools and decimal to others' ELSE '' END
);
-- in_network('198.51.100.23', '198.51.100.0/24'): true when the address is in the CIDR block
-- (IPv4 or IPv6; a bare address is a block of one).
CREATE OR REPLACE MACRO ip_host_bits(cidr) AS (
    CASE WHEN contains(cidr, ':') THEN 128 ELSE 32 END
    - coalesce(TRY_CAST(nullif(split_part(cidr, '/', 2), '') AS INTEGER), CASE WHEN contains(cidr, ':') THEN 128 ELSE 32 END)
);
CREATE OR REPLACE MACRO in_network(ip, cidr) AS (
    CASE WHEN ip_host_bits(cidr) >= 128 THEN ip_num(ip::VARCHAR) IS NOT NULL
         ELSE (ip_num(ip::VARCHAR) >> ip_host_bits(cidr)::UHUGEINT)
              = (ip_num(split_part(cidr, '/', 1)) >> ip_host_bits(cidr)::UHUGEINT) END
);
