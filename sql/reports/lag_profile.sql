-- title: Lag profile: attacks by signed lag from diplomatic events, against shifted series
-- description: For every lag from -k to +k bins (days, or hours), how many attacks
--   (clusters) fell that far from an event of the chosen class: `observed` sums, over the
--   bins holding an event of the class, the attacks in the bin at that lag (an attack two
--   days after two event days counts twice, once for each; several events in one bin, as
--   several feeds report one meeting, count once). Lag 0 is the event's own bin; positive
--   lags are attacks after the event. The baseline turns the attack series around the
--   studied span against the events by d bins, more than 2k from zero either way so no
--   shifted window overlaps an observed one: every such d when there are no more than
--   `permutations` of them, else `permutations` random ones (fixed `seed`). This keeps how
--   events cluster together and how attacks cluster together, and only breaks their
--   alignment. Events closer than k bins to either end of the span are left out, so every
--   observed window lies inside it. `expected` is the mean over the shifts, `percentile`
--   where the observed count falls among them (ties count half) and `p_value` the share of
--   shifts with at least as many (add-one, one-sided). A lag that stands out against its neighbours and
--   the shifts is a lead; one that stands out in one class of ten is what chance gives.
--   Day bins follow `tz`; hour bins are UTC hours. Attacks and events known less precisely
--   than a bin are not counted. `distinct_attacks` says how many attacks are behind each
--   observed count and `cluster_ids` lists the first `max_ids` of them, earliest first.
-- param: event_class VARCHAR(talks|visit|statement|agreement|sanction|recognition|threat|attribution|military|other) = 'military'  events of this class
-- param: bin VARCHAR(day|hour) = 'day'  the unit of the lag
-- param: k INTEGER = 7  lags from -k to +k bins
-- param: permutations INTEGER = 1000  most shifts of the event series
-- param: seed INTEGER = 42  seed of the shifts when they are sampled: the same seed gives the same baseline
-- param: tz TIMEZONE = 'UTC'  time zone of day bins (the store stays UTC)
-- param: country VARCHAR = NULL  only attacks on this target country (ISO alpha-3)
-- param: event_country VARCHAR = NULL  only events with this actor country (ISO alpha-3)
-- param: attack_type VARCHAR(ddos|defacement|wiper|ransomware|phishing|intrusion|data_leak|other) = NULL  only this attack type
-- param: max_ids INTEGER = 100  at most this many cluster ids per lag in `cluster_ids`
-- param: since DATE = NULL  first day of the studied span [default: the first attack or event]
-- param: until DATE = NULL  last day of the studied span [default: the last attack or event]
-- example: cyberlog report run lag_profile -p event_class=sanction -p country=UKR
-- example: cyberlog report run lag_profile -p bin=hour -p k=48 -p since=2022-01-01 -p until=2022-03-31
WITH precisions AS (
    SELECT CASE $bin WHEN 'hour' THEN ['second', 'minute', 'hour'] ELSE ['second', 'minute', 'hour', 'day'] END
        AS fine_enough
), attacks AS (
    SELECT
        cluster_id,
        CASE $bin
            WHEN 'hour' THEN CAST(floor(epoch(started_at + (started_latest - started_at) / 2) / 3600) AS BIGINT)
            ELSE CAST(epoch(CAST(timezone($tz, started_at + (started_latest - started_at) / 2) AS DATE)) / 86400 AS BIGINT)
        END AS bin
    FROM v_attacks, precisions
    WHERE list_contains(fine_enough, time_precision)
      AND ($country IS NULL OR cluster_id IN (SELECT cluster_id FROM v_attack_targets WHERE country = upper($country)))
      AND ($attack_type IS NULL OR list_contains(attack_types, lower($attack_type)))
), events AS (
    SELECT
        CASE $bin
            WHEN 'hour' THEN CAST(floor(epoch(occurred_at + (occurred_latest - occurred_at) / 2) / 3600) AS BIGINT)
            ELSE CAST(epoch(CAST(timezone($tz, occurred_at + (occurred_latest - occurred_at) / 2) AS DATE)) / 86400 AS BIGINT)
        END AS bin
    FROM diplomatic_events, precisions
    WHERE list_contains(fine_enough, time_precision)
      AND event_class = lower($event_class)
      AND ($event_country IS NULL OR list_contains(actor_countries, upper($event_country)))
), span AS (
    SELECT
        coalesce(CAST(epoch(CAST($since AS DATE)) / 86400 AS BIGINT) * CASE $bin WHEN 'hour' THEN 24 ELSE 1 END,
                 least((SELECT min(bin) FROM attacks), (SELECT min(bin) FROM events))) AS first_bin,
        coalesce((CAST(epoch(CAST($until AS DATE)) / 86400 AS BIGINT) + 1) * CASE $bin WHEN 'hour' THEN 24 ELSE 1 END - 1,
                 greatest((SELECT max(bin) FROM attacks), (SELECT max(bin) FROM events))) AS last_bin
), sized AS (
    SELECT first_bin, last_bin - first_bin + 1 AS bins FROM span
), attack_bins AS (
    -- attacks per bin, numbered from 0 at the start of the span
    SELECT a.bin - s.first_bin AS pos, count(*) AS attacks
    FROM attacks a, sized s
    WHERE a.bin BETWEEN s.first_bin AND s.first_bin + s.bins - 1
    GROUP BY a.bin - s.first_bin
), event_bins AS (
    -- events whose whole -k..+k window lies inside the span: positions k .. bins-1-k
    SELECT e.bin - s.first_bin AS pos, count(*) AS events
    FROM events e, sized s
    WHERE e.bin BETWEEN s.first_bin + $k AND s.first_bin + s.bins - 1 - $k
    GROUP BY e.bin - s.first_bin
), shifts AS (
    -- shift 0 is the data as observed; the others turn the attack series around the span
    -- by d bins against the events, 2k < d < bins - 2k so no shifted window meets an
    -- observed one: every such d when there are at most `permutations`, else a seeded sample
    SELECT
        r,
        CASE WHEN r = 0 THEN 0
             WHEN s.bins - 4 * $k - 1 <= $permutations THEN 2 * $k + r
             ELSE 2 * $k + 1 + portable_hash($seed, r) % (s.bins - 4 * $k - 1) END AS offset_bins
    FROM range(0, $permutations + 1) AS t(r), sized s
    WHERE r = 0 OR r <= s.bins - 4 * $k - 1
), lags AS (
    SELECT lag FROM range(-$k, $k + 1) AS t(lag)
), dense AS (
    -- attacks per position as one array, so an event finds its attacks by index
    SELECT list(coalesce(a.attacks, 0) ORDER BY p.pos) AS attacks_at
    FROM sized s, range(0, s.bins) AS p(pos) LEFT JOIN attack_bins a ON a.pos = p.pos
), needed AS (
    -- a shift by d seen at lag l is the events against the attacks turned by d + l: each
    -- distinct turn is summed once, however many (shift, lag) pairs ask for it
    SELECT DISTINCT CAST((sh.offset_bins + l.lag + s.bins) % s.bins AS BIGINT) AS turn
    FROM shifts sh, lags l, sized s
), turned AS (
    SELECT n.turn, sum(d.attacks_at[1 + (e.pos + n.turn) % s.bins]) AS attacks
    FROM needed n
    CROSS JOIN event_bins e
    CROSS JOIN dense d
    CROSS JOIN sized s
    GROUP BY n.turn
), profile AS (
    SELECT sh.r, l.lag, t.attacks
    FROM shifts sh
    CROSS JOIN lags l
    CROSS JOIN sized s
    JOIN turned t ON t.turn = (sh.offset_bins + l.lag + s.bins) % s.bins
), observed AS (
    SELECT lag, attacks FROM profile WHERE r = 0
), baseline AS (
    SELECT
        o.lag,
        o.attacks AS observed,
        avg(p.attacks) AS expected,
        stddev_samp(p.attacks) AS sd,
        count(*) FILTER (WHERE p.attacks < o.attacks) AS below,
        count(*) FILTER (WHERE p.attacks = o.attacks) AS equal,
        count(p.attacks) AS shifts
    FROM observed o
    LEFT JOIN profile p ON p.lag = o.lag AND p.r > 0
    GROUP BY o.lag, o.attacks
), evidence_bins AS (
    -- the attack bins at each lag from an event bin, with how many attacks came before them
    SELECT
        l.lag, a.pos, a.attacks,
        sum(a.attacks) OVER (PARTITION BY l.lag ORDER BY a.pos ROWS UNBOUNDED PRECEDING) - a.attacks AS before
    FROM lags l
    CROSS JOIN attack_bins a
    WHERE a.pos - l.lag IN (SELECT pos FROM event_bins)
), evidence AS (
    -- the first max_ids attacks of each lag, earliest first: only their bins are looked up
    SELECT
        b.lag,
        any_value(t.distinct_attacks) AS distinct_attacks,
        list_slice(list(a.cluster_id ORDER BY a.bin, a.cluster_id) FILTER (WHERE a.cluster_id IS NOT NULL), 1, $max_ids)
            AS cluster_ids
    FROM (SELECT lag, sum(attacks) AS distinct_attacks FROM evidence_bins GROUP BY lag) t
    JOIN evidence_bins b USING (lag)
    CROSS JOIN sized s
    LEFT JOIN attacks a ON a.bin = b.pos + s.first_bin AND b.before < $max_ids
    GROUP BY b.lag
)
SELECT
    b.lag,
    $bin AS bin,
    b.observed,
    round(b.expected, 2) AS expected,
    round(b.observed / nullif(b.expected, 0), 2) AS ratio,
    round(b.sd, 2) AS sd,
    round(CASE WHEN b.shifts > 0 THEN (b.below + 0.5 * b.equal) / b.shifts END, 3) AS percentile,
    round((1 + b.shifts - b.below) / (1.0 + b.shifts), 4) AS p_value,
    (SELECT sum(events) FROM event_bins) AS events,
    (SELECT count(*) FROM event_bins) AS event_bins,
    b.shifts,
    coalesce(v.distinct_attacks, 0) AS distinct_attacks,
    coalesce(v.cluster_ids, []) AS cluster_ids
FROM baseline b
LEFT JOIN evidence v USING (lag)
ORDER BY b.lag
