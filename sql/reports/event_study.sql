-- title: Event study: attacks before and after diplomatic events, against a local baseline
-- description: Did attacks (clusters, counted once however many sources reported them)
--   come more often after diplomatic events of a class than at other times? For each
--   event day, `pre` counts attacks in the `pre_days` days before it and `post` in the
--   event's day and the `post_days` - 1 days after, by day boundaries in `tz`; several
--   events on one day are one study point.
--   The null (named in `null_model`) is local: the studied span is cut into blocks of
--   `block_weeks` weeks, and each baseline draw turns the event days of every block, on
--   their own, by a random whole number of weeks around that block (`baseline_size` draws,
--   seeded by `seed`). Every event stays in its own few weeks and on its weekday, beside
--   the events it came with, so two series that surge in the same crisis, follow the
--   working week or bunch together are compared like with like; only their alignment
--   inside a block is broken. The span is where both series have data unless `since` /
--   `until` say otherwise (`span_from`, `span_to`): its windows lie inside the attacks'
--   data; an event day whose window reaches past the newest attack or before the span is
--   `provisional` and left out of the tests.
--   With `group` = class (the default), one row per class: `pre` and `post` are means over
--   its event days, `expected_*` the means over the draws, `abnormal` post minus expected
--   post with `band_low` .. `band_high` the 95% range chance alone gives it, `ratio` with
--   `ratio_low` .. `ratio_high`, `p_value` the share of draws with a post window at least
--   as busy (add-one, one-sided), `p_adjusted` Benjamini-Hochberg over the `tests` classes:
--   read `p_adjusted`. `min_p` is the smallest p-value the baseline could give; `note`
--   says when a row cannot reach 0.05 whatever the data. With `group` = day, one row per
--   class and `day_offset` of the window (-pre_days .. post_days - 1): `attacks` per event day on
--   that day of the window, `expected`, `abnormal` and its band, so the shape of the
--   response shows (p adjusted by Benjamini-Yekutieli over the window's days). With `group`
--   = event, one row per event (an event several records describe is one: `event_id` is its
--   most precise record, `event_cluster_id` and `event_records` the rest) against its
--   **placebo days**: days of the same weekday
--   within `block_weeks` weeks of it whose whole window holds no event of the class
--   (`baseline_size` of them; few or none where the class is busy, and `note` says so),
--   p adjusted by Benjamini-Hochberg over the class's event days, and `post_cluster_ids`,
--   the attacks in its post window. Attacks and events known less precisely than a day are
--   not counted.
-- param: group VARCHAR(class|day|event) = 'class'  one row per event class, per class and day of the window, or per event
-- param: event_class EVENT_CLASS = NULL  only this class
-- param: pre_days INTEGER = 3  days before the event day in the pre window
-- param: post_days INTEGER = 7  days in the post window, the event day first
-- param: block_weeks INTEGER = 4  the baseline moves events only within blocks of this many weeks
-- param: tz TIMEZONE = 'UTC'  time zone of the day boundaries (the store stays UTC)
-- param: country COUNTRY = NULL  only attacks with a target in this country
-- param: event_country COUNTRY = NULL  only events with an actor from this country
-- param: attack_type ATTACK_TYPE = NULL  only this attack type
-- param: since DATE = NULL  first day of the studied span [default: the first day both attacks and events have data]
-- param: until DATE = NULL  last day of the studied span [default: the last day both have data]
-- param: permutations INTEGER = 2000  baseline draws
-- param: seed INTEGER = 42  seed of the draws: the same seed gives the same p-values
-- param: max_ids INTEGER = 25  at most this many attacks per event in `post_cluster_ids`, earliest first
-- example: cyberlog report run event_study -p country=UKR -p tz=Europe/Kyiv
-- example: cyberlog report run event_study -p group=day -p event_class=sanction
-- example: cyberlog report run event_study -p group=event -p event_class=sanction -p pre_days=3 -p post_days=7
WITH precisions AS (
    SELECT ['second', 'minute', 'hour', 'day'] AS daily
), attacks AS (
    SELECT cluster_id,
           day_number(started_at, started_latest, $tz) AS dn
    FROM v_attacks, precisions
    WHERE list_contains(daily, time_precision)
      AND ($country IS NULL OR cluster_id IN (SELECT cluster_id FROM v_attack_targets WHERE country = upper($country)))
      AND ($attack_type IS NULL OR list_contains(attack_types, lower($attack_type)))
), events AS (
    -- one per real-world event (event cluster), named by its most precise record
    SELECT lead_event_id AS event_id, cluster_id AS event_cluster_id, records AS event_records, title, url,
           event_class,
           day_number(occurred_at, occurred_latest, $tz) AS dn
    FROM v_event_clusters, precisions
    WHERE list_contains(daily, time_precision)
      AND ($event_class IS NULL OR event_class = lower($event_class))
      AND ($event_country IS NULL OR list_contains(actor_countries, upper($event_country)))
), span AS (
    -- where both series have data, unless since/until say otherwise; every studied window
    -- lies between the first and the newest attack
    SELECT
        greatest(coalesce(CAST(epoch(CAST($since AS DATE)) / 86400 AS BIGINT), (SELECT min(dn) FROM events)),
                 (SELECT min(dn) FROM attacks) + $pre_days) AS first_dn,
        least(coalesce(CAST(epoch(CAST($until AS DATE)) / 86400 AS BIGINT), (SELECT max(dn) FROM events)),
              (SELECT max(dn) FROM attacks) - ($post_days - 1)) AS last_dn,
        coalesce(CAST(epoch(CAST($since AS DATE)) / 86400 AS BIGINT), (SELECT min(dn) FROM events)) AS asked_first,
        coalesce(CAST(epoch(CAST($until AS DATE)) / 86400 AS BIGINT), (SELECT max(dn) FROM events)) AS asked_last
), sized AS (
    -- blocks of block_weeks weeks from the first day; days past the last whole week are a
    -- block of their own that never turns
    SELECT
        first_dn, asked_first, asked_last,
        greatest(0, last_dn - first_dn + 1) AS bins,
        greatest(0, last_dn - first_dn + 1) // 7 * 7 AS whole,
        greatest(1, $block_weeks) * 7 AS block
    FROM span
), attack_days AS (
    SELECT a.dn - s.first_dn AS pos, count(*) AS attacks
    FROM attacks a, sized s
    WHERE a.dn - s.first_dn BETWEEN -$pre_days AND s.bins + $post_days - 2
    GROUP BY a.dn - s.first_dn
), dense AS (
    -- attacks per day as one array (element 1 is position -pre_days)
    SELECT list(coalesce(a.attacks, 0) ORDER BY p.pos) AS attacks_at
    FROM sized s, range(-$pre_days, s.bins + $post_days - 1) AS p(pos) LEFT JOIN attack_days a ON a.pos = p.pos
), event_days AS (
    -- one study point per class and day inside the span, with its block
    SELECT
        e.event_class, e.pos,
        CASE WHEN e.pos < s.whole THEN e.pos // s.block ELSE -1 END AS block,
        CASE WHEN e.pos < s.whole THEN e.pos // s.block * s.block ELSE s.whole END AS base,
        CASE WHEN e.pos < s.whole THEN least(s.block, s.whole - e.pos // s.block * s.block) ELSE s.bins - s.whole END
            AS block_len
    FROM (SELECT DISTINCT event_class, dn - (SELECT first_dn FROM sized) AS pos FROM events) e, sized s
    WHERE e.pos BETWEEN 0 AND s.bins - 1
), blocks AS (
    SELECT DISTINCT event_class, block, CASE WHEN block < 0 THEN 1 ELSE block_len // 7 END AS weeks FROM event_days
), offsets AS (
    SELECT t AS day_offset FROM range(-$pre_days, $post_days) AS g(t)
), block_sums AS (
    -- per class, block, turn and day of the window: attacks summed over the block's event days turned by w weeks
    SELECT
        e.event_class, e.block, t.w, o.day_offset,
        sum(d.attacks_at[1 + $pre_days + e.base + (e.pos - e.base + 7 * t.w) % e.block_len + o.day_offset]) AS attacks
    FROM event_days e
    JOIN (SELECT b.event_class, b.block, g.w FROM blocks b, range(0, b.weeks) AS g(w)) t USING (event_class, block)
    CROSS JOIN offsets o
    CROSS JOIN dense d
    GROUP BY e.event_class, e.block, t.w, o.day_offset
), stats AS (
    -- the statistics a draw is judged by: the post window, the pre window, and (group=day) each day
    SELECT event_class, block, w, 'post' AS stat, sum(attacks) FILTER (WHERE day_offset >= 0) AS attacks
    FROM block_sums GROUP BY event_class, block, w
    UNION ALL
    SELECT event_class, block, w, 'pre', coalesce(sum(attacks) FILTER (WHERE day_offset < 0), 0)
    FROM block_sums GROUP BY event_class, block, w
    UNION ALL
    SELECT event_class, block, w, CAST(day_offset AS VARCHAR), attacks FROM block_sums WHERE $group = 'day'
), points AS (
    SELECT event_class, count(*) AS n FROM event_days GROUP BY event_class
), draws AS (
    SELECT b.event_class, t.r, b.block,
           portable_hash($seed, b.event_class || '/' || CAST(t.r AS VARCHAR) || '/' || CAST(b.block AS VARCHAR))
               % b.weeks AS w
    FROM range(1, $permutations + 1) AS t(r), blocks b
    WHERE $group <> 'event'
), drawn AS (
    SELECT d.event_class, s.stat, d.r, sum(s.attacks) / any_value(p.n) AS mean
    FROM draws d
    JOIN stats s USING (event_class, block, w)
    JOIN points p USING (event_class)
    GROUP BY d.event_class, s.stat, d.r
), observed AS (
    SELECT s.event_class, s.stat, sum(s.attacks) / any_value(p.n) AS mean
    FROM stats s JOIN points p USING (event_class)
    WHERE s.w = 0
    GROUP BY s.event_class, s.stat
), reach AS (
    -- the chance a draw is as busy as the busiest arrangement: the smallest p-value the baseline can give
    SELECT event_class, stat, exp(sum(ln(ties / weeks))) AS top_share
    FROM (SELECT s.event_class, s.stat, s.block, any_value(b.weeks) AS weeks,
                 count(*) FILTER (WHERE s.attacks = m.most) AS ties
          FROM stats s
          JOIN (SELECT event_class, stat, block, max(attacks) AS most FROM stats GROUP BY event_class, stat, block) m
              USING (event_class, stat, block)
          JOIN blocks b USING (event_class, block)
          GROUP BY s.event_class, s.stat, s.block)
    GROUP BY event_class, stat
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY event_class, stat ORDER BY mean) AS place,
           count(*) OVER (PARTITION BY event_class, stat) AS n
    FROM drawn
), judged AS (
    SELECT
        o.event_class, o.stat, o.mean AS observed,
        avg(d.mean) AS expected,
        count(d.mean) AS draws,
        count(*) FILTER (WHERE d.mean < o.mean) AS below,
        count(*) FILTER (WHERE d.mean = o.mean) AS equal,
        min(d.mean) FILTER (WHERE d.place = CAST(ceil(0.025 * d.n) AS BIGINT)) AS low,
        min(d.mean) FILTER (WHERE d.place = CAST(ceil(0.975 * d.n) AS BIGINT)) AS high,
        any_value(r.top_share) AS top_share
    FROM observed o
    LEFT JOIN ranked d USING (event_class, stat)
    LEFT JOIN reach r USING (event_class, stat)
    GROUP BY o.event_class, o.stat, o.mean
), tests AS (
    SELECT
        *,
        CASE WHEN draws > 0 THEN (1 + draws - below) / (1.0 + draws) END AS p,
        CASE WHEN draws > 0 THEN (1 + draws * coalesce(top_share, 1)) / (1.0 + draws) END AS min_p
    FROM judged
), class_tests AS (
    -- Benjamini-Hochberg over the classes, on the post window
    SELECT *, least(1.0, min(p * m / place) OVER (ORDER BY p DESC, event_class DESC ROWS UNBOUNDED PRECEDING))
        AS p_adjusted
    FROM (SELECT *, row_number() OVER (ORDER BY p, event_class) AS place, count(*) OVER () AS m
          FROM tests WHERE stat = 'post' AND p IS NOT NULL)
), day_tests AS (
    -- Benjamini-Yekutieli over the days of each class's window (neighbouring days are dependent)
    SELECT *, least(1.0, min(p * m * c / place) OVER (PARTITION BY event_class ORDER BY p DESC, stat DESC
                                                      ROWS UNBOUNDED PRECEDING)) AS p_adjusted
    FROM (SELECT *, CAST(stat AS INTEGER) AS day_offset,
                 row_number() OVER (PARTITION BY event_class ORDER BY p, stat) AS place,
                 count(*) OVER (PARTITION BY event_class) AS m,
                 (SELECT sum(1.0 / i) FROM range(1, $pre_days + $post_days + 1) AS g(i)) AS c
          FROM tests WHERE stat NOT IN ('post', 'pre') AND p IS NOT NULL)
), asked_days AS (
    -- event days asked for but outside the span: their windows are not all in the data
    SELECT DISTINCT e.event_class, e.dn, e.dn - s.first_dn NOT BETWEEN 0 AND s.bins - 1 AS provisional
    FROM events e, sized s
    WHERE e.dn BETWEEN s.asked_first AND s.asked_last
), per_class AS (
    SELECT event_class, count(*) FILTER (WHERE NOT provisional) AS event_days,
           count(*) FILTER (WHERE provisional) AS provisional_days
    FROM asked_days GROUP BY event_class
), daily AS (
    -- group=event: every day of the span with its attacks, its windows and whether the class had an event
    SELECT
        c.event_class, p.pos, s.first_dn + p.pos AS dn,
        coalesce(a.attacks, 0) AS attacks,
        CASE WHEN e.pos IS NULL THEN 0 ELSE 1 END AS event_day
    FROM (SELECT DISTINCT event_class FROM events) c
    CROSS JOIN sized s
    CROSS JOIN range(least(-$pre_days, s.asked_first - s.first_dn - $pre_days),
                     greatest(s.bins + $post_days - 1, s.asked_last - s.first_dn + $post_days)) AS p(pos)
    LEFT JOIN (SELECT dn - (SELECT first_dn FROM sized) AS pos, count(*) AS attacks FROM attacks GROUP BY dn) a
        ON a.pos = p.pos
    LEFT JOIN (SELECT DISTINCT event_class, dn - (SELECT first_dn FROM sized) AS pos FROM events) e
        ON e.event_class = c.event_class AND e.pos = p.pos
    WHERE $group = 'event'
), windows AS (
    SELECT
        event_class, pos, dn, event_day,
        coalesce(sum(attacks) OVER w_pre, 0) AS pre,
        sum(attacks) OVER w_post AS post,
        sum(event_day) OVER w_all AS events_in_window
    FROM daily
    WINDOW
        w_pre AS (PARTITION BY event_class ORDER BY pos ROWS BETWEEN $pre_days PRECEDING AND 1 PRECEDING),
        w_post AS (PARTITION BY event_class ORDER BY pos ROWS BETWEEN CURRENT ROW AND $post_days - 1 FOLLOWING),
        w_all AS (PARTITION BY event_class ORDER BY pos ROWS BETWEEN $pre_days PRECEDING AND $post_days - 1 FOLLOWING)
), placebo AS (
    -- an event day's placebo days: same weekday, within block_weeks weeks, inside the span, no event in the window
    SELECT w.event_class, w.dn, p.pre, p.post
    FROM windows w
    JOIN windows p ON p.event_class = w.event_class
        AND p.pos BETWEEN w.pos - 7 * greatest(1, $block_weeks) AND w.pos + 7 * greatest(1, $block_weeks)
        AND (p.pos - w.pos) % 7 = 0 AND p.events_in_window = 0
        AND p.pos BETWEEN 0 AND (SELECT bins FROM sized) - 1
    WHERE w.event_day = 1
), per_event AS (
    SELECT
        w.event_class, w.dn, w.pre, w.post,
        count(p.post) AS placebo_days,
        avg(p.pre) AS expected_pre,
        avg(p.post) AS expected_post,
        count(*) FILTER (WHERE p.post < w.post) AS below,
        count(*) FILTER (WHERE p.post = w.post) AS equal,
        any_value(v.provisional) AS provisional
    FROM windows w
    JOIN asked_days v USING (event_class, dn)
    LEFT JOIN placebo p USING (event_class, dn)
    WHERE w.event_day = 1
    GROUP BY w.event_class, w.dn, w.pre, w.post
), event_tests AS (
    -- Benjamini-Hochberg over each class's event days that are not provisional
    SELECT *, least(1.0, min(p * m / place) OVER (PARTITION BY event_class, provisional ORDER BY p DESC, dn DESC
                                                  ROWS UNBOUNDED PRECEDING)) AS p_adjusted
    FROM (SELECT *,
                 CASE WHEN placebo_days > 0 THEN (1 + placebo_days - below) / (1.0 + placebo_days) END AS p,
                 row_number() OVER (PARTITION BY event_class, provisional ORDER BY
                     CASE WHEN placebo_days > 0 THEN (1 + placebo_days - below) / (1.0 + placebo_days) END, dn)
                     AS place,
                 count(*) OVER (PARTITION BY event_class, provisional) AS m
          FROM per_event)
), evidence AS (
    SELECT
        s.event_class, s.dn,
        list_slice(list(a.cluster_id ORDER BY a.dn, a.cluster_id) FILTER (WHERE a.cluster_id IS NOT NULL), 1, $max_ids)
            AS post_cluster_ids
    FROM per_event s
    LEFT JOIN attacks a ON a.dn >= s.dn AND a.dn < s.dn + $post_days
    GROUP BY s.event_class, s.dn
), described AS (
    SELECT
        'whole-week turns within ' || CAST(greatest(1, $block_weeks) AS VARCHAR) || '-week blocks' AS null_model,
        DATE '1970-01-01' + CAST(first_dn AS INTEGER) AS span_from,
        DATE '1970-01-01' + CAST(first_dn + bins - 1 AS INTEGER) AS span_to
    FROM sized
), class_rows AS (
    SELECT
        c.event_class, NULL::INTEGER AS day_offset, NULL::DATE AS event_day, NULL AS event_id, NULL AS event,
        c.event_days, c.provisional_days,
        round(pre.observed, 2) AS pre, round(t.observed, 2) AS post,
        round(pre.expected, 2) AS expected_pre, round(t.expected, 2) AS expected_post,
        NULL::DOUBLE AS attacks, NULL::DOUBLE AS expected,
        round(t.observed - t.expected, 2) + 0.0 AS abnormal,
        round(t.low - t.expected, 2) + 0.0 AS band_low, round(t.high - t.expected, 2) + 0.0 AS band_high,
        round(t.observed / nullif(t.expected, 0), 2) AS ratio,
        round(greatest(0, t.observed - (t.high - t.expected)) / nullif(t.expected, 0), 2) AS ratio_low,
        round((t.observed + (t.expected - t.low)) / nullif(t.expected, 0), 2) AS ratio_high,
        round(CASE WHEN t.draws > 0 THEN (t.below + 0.5 * t.equal) / t.draws END, 3) AS percentile,
        round(t.p, 4) AS p_value, round(t.p_adjusted, 4) AS p_adjusted, t.m AS tests, round(t.min_p, 4) AS min_p,
        CASE WHEN t.p IS NULL THEN 'no test: no event day of the class has its whole window in the data'
             WHEN t.min_p > 0.05 THEN 'cannot reach 0.05: the smallest p this baseline can give is '
                                      || CAST(round(t.min_p, 3) AS VARCHAR) END AS note,
        coalesce(t.draws, 0) AS baseline_size, NULL::BOOLEAN AS provisional, NULL::VARCHAR[] AS post_cluster_ids,
        NULL AS url, NULL AS event_cluster_id, NULL::BIGINT AS event_records
    FROM per_class c
    LEFT JOIN class_tests t USING (event_class)
    LEFT JOIN tests pre ON pre.event_class = c.event_class AND pre.stat = 'pre'
    WHERE $group = 'class'
), day_rows AS (
    SELECT
        t.event_class, t.day_offset, NULL::DATE, NULL, NULL, c.event_days, c.provisional_days,
        NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE,
        round(t.observed, 2), round(t.expected, 2),
        round(t.observed - t.expected, 2) + 0.0, round(t.low - t.expected, 2) + 0.0, round(t.high - t.expected, 2) + 0.0,
        round(t.observed / nullif(t.expected, 0), 2),
        round(greatest(0, t.observed - (t.high - t.expected)) / nullif(t.expected, 0), 2),
        round((t.observed + (t.expected - t.low)) / nullif(t.expected, 0), 2),
        round(CASE WHEN t.draws > 0 THEN (t.below + 0.5 * t.equal) / t.draws END, 3),
        round(t.p, 4), round(t.p_adjusted, 4), t.m, round(t.min_p, 4),
        CASE WHEN least(1.0, t.min_p * t.c) > 0.05
             THEN 'cannot reach 0.05: the smallest adjusted p this baseline can give is '
                  || CAST(round(least(1.0, t.min_p * t.c), 3) AS VARCHAR) END,
        t.draws, NULL::BOOLEAN, NULL::VARCHAR[], NULL, NULL, NULL
    FROM day_tests t
    JOIN per_class c USING (event_class)
), event_rows AS (
    SELECT
        e.event_class, NULL::INTEGER, DATE '1970-01-01' + CAST(e.dn AS INTEGER), e.event_id, e.title, 1,
        CASE WHEN s.provisional THEN 1 ELSE 0 END,
        s.pre, s.post, round(s.expected_pre, 2), round(s.expected_post, 2), NULL::DOUBLE, NULL::DOUBLE,
        round(s.post - s.expected_post, 2) + 0.0, NULL::DOUBLE, NULL::DOUBLE,
        round(s.post / nullif(s.expected_post, 0), 2), NULL::DOUBLE, NULL::DOUBLE,
        round(CASE WHEN s.placebo_days > 0 THEN (s.below + 0.5 * s.equal) / s.placebo_days END, 3),
        round(s.p, 4), round(CASE WHEN NOT s.provisional THEN s.p_adjusted END, 4),
        CASE WHEN NOT s.provisional THEN s.m END,
        round(1 / (1.0 + s.placebo_days), 4),
        CASE WHEN s.provisional THEN 'provisional: the window is not all in the data'
             WHEN s.placebo_days = 0 THEN 'no placebo days: the class has events in every nearby window'
             WHEN 1 / (1.0 + s.placebo_days) > 0.05
             THEN 'cannot reach 0.05: ' || CAST(s.placebo_days AS VARCHAR) || ' placebo days give p >= '
                  || CAST(round(1 / (1.0 + s.placebo_days), 3) AS VARCHAR) END,
        s.placebo_days, s.provisional, v.post_cluster_ids, e.url, e.event_cluster_id, e.event_records
    FROM events e
    JOIN event_tests s USING (event_class, dn)
    JOIN evidence v USING (event_class, dn)
    WHERE $group = 'event'
)
SELECT r.* EXCLUDE (event_cluster_id, event_records), d.null_model, d.span_from, d.span_to,
       r.event_cluster_id, r.event_records
FROM (SELECT * FROM class_rows UNION ALL SELECT * FROM day_rows UNION ALL SELECT * FROM event_rows) r
CROSS JOIN described d
ORDER BY r.event_class, r.day_offset NULLS FIRST, r.event_day NULLS FIRST, r.event_id
