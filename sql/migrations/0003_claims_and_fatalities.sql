-- Schema 2 -> 3: the feeds analysts use in 2026 (POLECAT, VIINA, UCDP GED, CISSM, DDoSia, DCID).

-- kinetic event data (UCDP GED): deaths as the source estimates them, and its place precision
ALTER TABLE diplomatic_events ADD COLUMN IF NOT EXISTS fatalities_best INTEGER;
ALTER TABLE diplomatic_events ADD COLUMN IF NOT EXISTS fatalities_low INTEGER;
ALTER TABLE diplomatic_events ADD COLUMN IF NOT EXISTS fatalities_high INTEGER;
ALTER TABLE diplomatic_events ADD COLUMN IF NOT EXISTS location_precision VARCHAR;

-- claimed target lists (DDoSia) and the hosts on them
CREATE TABLE IF NOT EXISTS claim_snapshots (
    source       VARCHAR NOT NULL,
    snapshot_at  TIMESTAMPTZ NOT NULL,      -- the list's time, from its file's name
    hosts        INTEGER NOT NULL,          -- hosts on it: 0 for `targets: null`
    requests     INTEGER NOT NULL,          -- the requests it orders against them
    run_id       VARCHAR NOT NULL,
    file_id      VARCHAR NOT NULL,
    loaded_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, snapshot_at)
);

CREATE TABLE IF NOT EXISTS claim_targets (
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
