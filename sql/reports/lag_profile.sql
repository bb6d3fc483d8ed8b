-- title: Lag profile: attacks by signed lag from diplomatic events, against a local baseline
-- description: For every lag from -k to +k bins (days, or hours), how many attacks
--   (clusters) fell that far from an event of the chosen class: `observed` sums, over the
--   bins holding an event of the class, the attacks in the bin at that lag (an attack two
--   days after two event days counts twice; several events in one bin count once). Lag 0
--   is the event's own bin; positive lags are attacks after the event.
--   The null (named in `null_model`) is local: the studied span is cut into blocks of
--   `block_weeks` weeks, and each baseline draw turns the event bins of every block, on
--   their own, by a random whole number of weeks around that block. Every event stays in
--   its own few weeks, on its own weekday and hour, beside the same events it came with,
--   so attacks and events that both surge in a crisis, follow the working week or bunch
--   together are compared like with like; only their alignment inside a block is broken.
--   (Shifting a whole series across years compared a crisis with quiet years and called
--   chance significant; the block length was chosen by calibration on seeded null worlds,
--   see docs.) `permutations` draws, seeded by `seed`. The span is where both series have
--   data unless `since`/`until` say otherwise (`span_from`, `span_to`), and every window in
--   it lies between the first and the newest attack (the last days short of a whole week
--   never turn).
--   `expected` is the mean of the draws, `ratio` observed / expected with `ratio_low` ..
--   `ratio_high` the 95% band chance alone gives it, `p_value` the share of draws at least
--   as busy (add-one, one-sided), `p_adjusted` Benjamini-Yekutieli over the `tests` lags
--   (lags are dependent): read `p_adjusted`. `min_p` is the smallest p-value this baseline
--   could give; `note` says when a row cannot reach 0.05 whatever the data. `direction`
--   is the excess after the event minus the excess before it (attacks, lags 1..k against
--   -k..-1) and `direction_p` how often the draws lean as far after; excess on both sides
--   of lag 0 is a shared trend or events that recur within k bins, not a simple reaction,
--   and `note` says so. Day bins follow `tz`;
--   hour bins are UTC hours. Attacks and events known less precisely than a bin are not
--   counted. `distinct_attacks` says how many attacks are behind each observed count and
--   `cluster_ids` lists the first `max_ids` of them, earliest first.
-- param: event_class EVENT_CLASS = 'military'  events of this class
-- param: bin PRECISION(day|hour) = 'day'  the unit of the lag
-- param: k INTEGER = 7  lags from -k to +k bins
-- param: block_weeks INTEGER = 4  the baseline moves events only within blocks of this many weeks
-- param: permutations INTEGER = 2000  baseline draws
-- param: seed INTEGER = 42  seed of the draws: the same seed gives the same baseline
-- param: tz TIMEZONE = 'UTC'  time zone of day bins (the store stays UTC)
-- param: country COUNTRY = NULL  only attacks with a target in this country
-- param: event_country COUNTRY = NULL  only events with an actor from this country
-- param: attack_type ATTACK_TYPE = NULL  only this attack type
-- param: max_ids INTEGER = 100  at most this many cluster ids per lag in `cluster_ids`
-- param: since DATE = NULL  first day of the studied span [default: the first day both attacks and events have data]
-- param: until DATE = NULL  last day of the studied span [default: the last day both have data]
-- example: cyberlog report run lag_profile -p event_class=sanction -p country=UKR
-- example: cyberlog report run lag_profile -p bin=hour -p k=48 -p since=2022-01-01 -p until=2022-03-31
WITH precisions AS (
    SELECT CASE $bin WHEN 'hour' THEN ['second', 'minute', 'hour'] ELSE ['second', 'minute', 'hour', 'day'] END
        AS fine_enough,
        CASE $bin WHEN 'hour' THEN 24 ELSE 1 END AS per_day
), attacks AS (
    SELECT
        cluster_id,
        CASE $bin
            WHEN 'hour' THEN hour_number(started_at, started_latest)
            ELSE day_number(started_at, started_latest, $tz)
        END AS bin
    FROM v_attacks, precisions
    WHERE list_contains(fine_enough, time_precision)
      AND ($country IS NULL OR cluster_id IN (SELECT cluster_id FROM v_attack_targets WHERE country = upper($country)))
      AND ($attack_type IS NULL OR list_contains(attack_types, lower($attack_type)))
), events AS (
    SELECT
        CASE $bin
            WHEN 'hour' THEN hour_number(occurred_at, occurred_latest)
            ELSE day_number(occurred_at, occurred_latest, $tz)
        END AS bin
    FROM diplomatic_events, precisions
    WHERE list_contains(fine_enough, time_precision)
      AND event_class = lower($event_class)
      AND ($event_country IS NULL OR list_contains(actor_countries, upper($event_country)))
), span AS (
    -- where both series have data, unless since/until say otherwise; every window lies
    -- between the first and the newest attack
    SELECT
        greatest(coalesce(CAST(epoch(CAST($since AS DATE)) / 86400 AS BIGINT) * per_day, (SELECT min(bin) FROM events)),
                 (SELECT min(bin) FROM attacks) + $k) AS first_bin,
        least(coalesce((CAST(epoch(CAST($until AS DATE)) / 86400 AS BIGINT) + 1) * per_day - 1,
                       (SELECT max(bin) FROM events)),
              (SELECT max(bin) FROM attacks) - $k) AS last_bin,
        per_day
    FROM precisions
), sized AS (
    -- blocks of block_weeks weeks from the first bin; bins past the last whole week are a
    -- block of their own that never turns
    SELECT
        first_bin,
        greatest(0, last_bin - first_bin + 1) AS bins,
        greatest(0, last_bin - first_bin + 1) // (7 * per_day) * 7 * per_day AS whole,
        7 * per_day AS week,
        greatest(1, $block_weeks) * 7 * per_day AS block
    FROM span
), attack_bins AS (
    -- attacks per bin, numbered from 0 at the start of the span, k bins either side too
    SELECT a.bin - s.first_bin AS pos, count(*) AS attacks
    FROM attacks a, sized s
    WHERE a.bin - s.first_bin BETWEEN -$k AND s.bins + $k - 1
    GROUP BY a.bin - s.first_bin
), dense AS (
    -- attacks per position as one array (element 1 is position -k), so a bin is found by index
    SELECT list(coalesce(a.attacks, 0) ORDER BY p.pos) AS attacks_at
    FROM sized s, range(-$k, s.bins + $k) AS p(pos) LEFT JOIN attack_bins a ON a.pos = p.pos
), event_bins AS (
    -- event bins inside the span, with their block: where it starts, how long it is, how many weeks
    SELECT
        e.pos, e.events,
        CASE WHEN e.pos < s.whole THEN e.pos // s.block ELSE -1 END AS block,
        CASE WHEN e.pos < s.whole THEN e.pos // s.block * s.block ELSE s.whole END AS base,
        CASE WHEN e.pos < s.whole THEN least(s.block, s.whole - e.pos // s.block * s.block) ELSE s.bins - s.whole END
            AS block_len,
        CASE WHEN e.pos < s.whole THEN least(s.block, s.whole - e.pos // s.block * s.block) // s.week ELSE 1 END
            AS weeks,
        s.week
    FROM (SELECT e.bin - s.first_bin AS pos, count(*) AS events
          FROM events e, sized s
          WHERE e.bin - s.first_bin BETWEEN 0 AND s.bins - 1
          GROUP BY e.bin - s.first_bin) e, sized s
), blocks AS (
    SELECT DISTINCT block, weeks FROM event_bins
), turns AS (
    -- every whole-week turn of every block that holds an event
    SELECT b.block, b.weeks, t.w FROM blocks b, range(0, b.weeks) AS t(w)
), lags AS (
    SELECT lag FROM range(-$k, $k + 1) AS t(lag)
), block_sums AS (
    -- per block, turn and lag: the attacks at that lag from the block's event bins turned by w weeks
    SELECT
        e.block, t.w, l.lag,
        sum(d.attacks_at[1 + $k + e.base + (e.pos - e.base + t.w * e.week) % e.block_len + l.lag]) AS attacks
    FROM event_bins e
    JOIN turns t USING (block)
    CROSS JOIN lags l
    CROSS JOIN dense d
    GROUP BY e.block, t.w, l.lag
), draws AS (
    -- baseline draw r turns each block by its own seeded number of weeks
    SELECT t.r, b.block, portable_hash($seed, CAST(t.r AS VARCHAR) || '/' || CAST(b.block AS VARCHAR)) % b.weeks AS w
    FROM range(1, $permutations + 1) AS t(r), blocks b
), drawn AS (
    SELECT d.r, s.lag, sum(s.attacks) AS attacks
    FROM draws d
    JOIN block_sums s USING (block, w)
    GROUP BY d.r, s.lag
), observed AS (
    SELECT l.lag, coalesce(sum(s.attacks), 0) AS attacks
    FROM lags l
    LEFT JOIN block_sums s ON s.lag = l.lag AND s.w = 0
    GROUP BY l.lag
), reach AS (
    -- the busiest any arrangement of the blocks could be, and the chance a draw is as busy:
    -- the smallest p-value this baseline can give
    SELECT lag, exp(sum(ln(ties / weeks))) AS top_share
    FROM (SELECT s.block, s.lag, any_value(t.weeks) AS weeks,
                 count(*) FILTER (WHERE s.attacks = m.most) AS ties
          FROM block_sums s
          JOIN (SELECT block, lag, max(attacks) AS most FROM block_sums GROUP BY block, lag) m USING (block, lag)
          JOIN blocks t USING (block)
          GROUP BY s.block, s.lag)
    GROUP BY lag
), ranked AS (
    SELECT lag, attacks,
           row_number() OVER (PARTITION BY lag ORDER BY attacks) AS place,
           count(*) OVER (PARTITION BY lag) AS n
    FROM drawn
), baseline AS (
    SELECT
        o.lag,
        o.attacks AS observed,
        avg(p.attacks) AS expected,
        stddev_samp(p.attacks) AS sd,
        count(*) FILTER (WHERE p.attacks < o.attacks) AS below,
        count(*) FILTER (WHERE p.attacks = o.attacks) AS equal,
        count(p.attacks) AS shifts,
        min(p.attacks) FILTER (WHERE p.place = CAST(ceil(0.025 * p.n) AS BIGINT)) AS low,
        min(p.attacks) FILTER (WHERE p.place = CAST(ceil(0.975 * p.n) AS BIGINT)) AS high
    FROM observed o
    LEFT JOIN ranked p ON p.lag = o.lag
    GROUP BY o.lag, o.attacks
), direction AS (
    -- excess after the event (lags 1..k) minus excess before it (-k..-1), against the draws
    SELECT
        avg(post - pre) AS expected,
        any_value(o.lean) AS lean,
        count(*) FILTER (WHERE post - pre >= o.lean) AS as_far,
        count(*) AS draws
    FROM (SELECT r, sum(attacks) FILTER (WHERE lag > 0) AS post, sum(attacks) FILTER (WHERE lag < 0) AS pre
          FROM drawn GROUP BY r) d,
         (SELECT sum(attacks) FILTER (WHERE lag > 0) - sum(attacks) FILTER (WHERE lag < 0) AS lean FROM observed) o
), tested AS (
    SELECT
        b.*,
        CASE WHEN b.shifts > 0 THEN (1 + b.shifts - b.below) / (1.0 + b.shifts) END AS p,
        CASE WHEN b.shifts > 0 THEN (1 + b.shifts * coalesce(r.top_share, 1)) / (1.0 + b.shifts) END AS min_p,
        2 * $k + 1 AS tests,
        (SELECT sum(1.0 / i) FROM range(1, 2 * $k + 2) AS t(i)) AS dependence
    FROM baseline b
    LEFT JOIN reach r USING (lag)
), adjusted AS (
    -- Benjamini-Yekutieli: p * m * (1 + 1/2 + ... + 1/m) / rank, made monotone from the largest p down
    SELECT
        *,
        least(1.0, min(p * tests * dependence / place) OVER (ORDER BY p DESC, lag DESC ROWS UNBOUNDED PRECEDING))
            AS p_adjusted
    FROM (SELECT *, row_number() OVER (ORDER BY p, lag) AS place FROM tested WHERE p IS NOT NULL)
), both_sides AS (
    SELECT count(*) FILTER (WHERE lag < 0 AND p_adjusted <= 0.05) > 0
           AND count(*) FILTER (WHERE lag > 0 AND p_adjusted <= 0.05) > 0 AS trend
    FROM adjusted
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
    round(greatest(0, b.observed - (b.high - b.expected)) / nullif(b.expected, 0), 2) AS ratio_low,
    round((b.observed + (b.expected - b.low)) / nullif(b.expected, 0), 2) AS ratio_high,
    round(b.sd, 2) AS sd,
    round(CASE WHEN b.shifts > 0 THEN (b.below + 0.5 * b.equal) / b.shifts END, 3) AS percentile,
    round(t.p, 4) AS p_value,
    round(a.p_adjusted, 4) AS p_adjusted,
    t.tests,
    round(t.min_p, 4) AS min_p,
    nullif(concat_ws('; ',
        CASE WHEN t.min_p * t.dependence > 0.05
             THEN 'cannot reach 0.05: the smallest adjusted p this baseline can give is '
                  || CAST(round(least(1.0, t.min_p * t.dependence), 3) AS VARCHAR) END,
        CASE WHEN s.trend AND a.p_adjusted <= 0.05
             THEN 'excess both before and after lag 0: a shared trend, or events that recur within k bins'
                  || ' (the day after one is days before the next); not a simple reaction' END), '') AS note,
    round(d.lean - d.expected, 2) + 0.0 AS direction,
    round((1 + d.as_far) / (1.0 + d.draws), 4) AS direction_p,
    (SELECT sum(events) FROM event_bins) AS events,
    (SELECT count(*) FROM event_bins) AS event_bins,
    b.shifts,
    'whole-week turns within ' || CAST(greatest(1, $block_weeks) AS VARCHAR) || '-week blocks' AS null_model,
    (SELECT DATE '1970-01-01' + CAST(s.first_bin // p.per_day AS INTEGER) FROM sized s, precisions p) AS span_from,
    (SELECT DATE '1970-01-01' + CAST((s.first_bin + s.bins - 1) // p.per_day AS INTEGER) FROM sized s, precisions p)
        AS span_to,
    coalesce(v.distinct_attacks, 0) AS distinct_attacks,
    coalesce(v.cluster_ids, []) AS cluster_ids
FROM baseline b
JOIN tested t USING (lag)
LEFT JOIN adjusted a USING (lag)
LEFT JOIN evidence v USING (lag)
CROSS JOIN direction d
CROSS JOIN both_sides s
ORDER BY b.lag
