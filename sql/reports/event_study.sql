-- title: Event study: attacks before and after diplomatic events, against a shifted baseline
-- description: Did attacks (clusters, counted once however many sources reported them)
--   come more often after diplomatic events of a class than at other times? For each
--   event day, `pre` counts attacks in the `pre_days` days before it and `post` in the
--   event's day and the `post_days` - 1 days after, by day boundaries in `tz`. With
--   `group` = class (the default), one row per class: `pre` and `post` are means over its
--   event days, and the baseline moves the class's whole series of event days by a whole
--   number of weeks, wrapping inside the studied span: every such shift when there are no
--   more than `permutations` of them, else `permutations` random ones (fixed `seed`).
--   Shifting keeps how the events bunch together, how attacks bunch together and the
--   weekday of every event (attacks and diplomacy both follow the working week); it breaks
--   only their alignment. `expected_pre` and `expected_post` are the means over the
--   shifts, `ratio` observed / expected, `percentile` where the observed mean falls among
--   the shifts (ties count half), `p_value` the share of shifts at least as busy
--   (add-one, one-sided) and `baseline_size` the number of shifts. With `group` = event,
--   one row per event: its counts against its **placebo days**, the days of the same
--   weekday whose whole window (pre and post) holds no event of the class, with
--   `baseline_size` of them (none when the class has an event most days), and
--   `post_cluster_ids`, the attacks in its post window. A window that reaches past the
--   newest attack, or before the span, is `provisional` and left out of class rows.
--   Attacks and events known less precisely than a day are not counted; only event days
--   count, so several events on one day are one study point. Read a p-value with the
--   number of classes and events tried in mind: among ten classes one will look unusual
--   by chance.
-- param: group VARCHAR(class|event) = 'class'  one row per event class, or per event
-- param: event_class VARCHAR(talks|visit|statement|agreement|sanction|recognition|threat|attribution|military|other) = NULL  only this class
-- param: pre_days INTEGER = 3  days before the event day in the pre window
-- param: post_days INTEGER = 7  days in the post window, the event day first
-- param: tz TIMEZONE = 'UTC'  time zone of the day boundaries (the store stays UTC)
-- param: country VARCHAR = NULL  only attacks on this target country (ISO alpha-3)
-- param: event_country VARCHAR = NULL  only events with this actor country (ISO alpha-3)
-- param: attack_type VARCHAR(ddos|defacement|wiper|ransomware|phishing|intrusion|data_leak|other) = NULL  only this attack type
-- param: since DATE = NULL  first day of the studied span [default: the first attack or event]
-- param: until DATE = NULL  last day of the studied span [default: the last attack or event]
-- param: permutations INTEGER = 1000  most week shifts in the class baseline
-- param: seed INTEGER = 42  seed of the shifts when they are sampled: the same seed gives the same p-values
-- param: max_ids INTEGER = 25  at most this many attacks per event in `post_cluster_ids`, earliest first
-- example: cyberlog report run event_study -p country=UKR -p tz=Europe/Kyiv
-- example: cyberlog report run event_study -p group=event -p event_class=sanction -p pre_days=3 -p post_days=7
WITH precisions AS (
    SELECT ['second', 'minute', 'hour', 'day'] AS daily
), attacks AS (
    SELECT cluster_id, CAST(timezone($tz, started_at + (started_latest - started_at) / 2) AS DATE) AS day
    FROM v_attacks, precisions
    WHERE list_contains(daily, time_precision)
      AND ($country IS NULL OR cluster_id IN (SELECT cluster_id FROM v_attack_targets WHERE country = upper($country)))
      AND ($attack_type IS NULL OR list_contains(attack_types, lower($attack_type)))
), events AS (
    SELECT event_id, title, url, event_class,
           CAST(timezone($tz, occurred_at + (occurred_latest - occurred_at) / 2) AS DATE) AS day
    FROM diplomatic_events, precisions
    WHERE list_contains(daily, time_precision)
      AND ($event_class IS NULL OR event_class = lower($event_class))
      AND ($event_country IS NULL OR list_contains(actor_countries, upper($event_country)))
), span AS (
    SELECT
        coalesce($since, least((SELECT min(day) FROM attacks), (SELECT min(day) FROM events))) AS first_day,
        coalesce($until, greatest((SELECT max(day) FROM attacks), (SELECT max(day) FROM events))) AS last_day,
        (SELECT max(day) FROM attacks) AS newest_attack
), days AS (
    SELECT CAST(d AS DATE) AS day
    FROM span, generate_series(CAST(first_day AS TIMESTAMP), CAST(last_day AS TIMESTAMP), INTERVAL 1 DAY) AS g(d)
), classes AS (
    SELECT DISTINCT event_class FROM events
), daily AS (
    -- one row per class and day: attacks that day, whether an event of the class fell on it
    SELECT
        c.event_class, d.day, isodow(d.day) AS weekday,
        coalesce(a.attacks, 0) AS attacks,
        CASE WHEN e.day IS NULL THEN 0 ELSE 1 END AS event_day
    FROM classes c
    CROSS JOIN days d
    LEFT JOIN (SELECT day, count(*) AS attacks FROM attacks GROUP BY day) a USING (day)
    LEFT JOIN (SELECT DISTINCT event_class, day FROM events) e ON e.event_class = c.event_class AND e.day = d.day
), windows AS (
    SELECT
        event_class, day, weekday, event_day,
        sum(attacks) OVER w_pre AS pre,
        sum(attacks) OVER w_post AS post,
        sum(event_day) OVER w_all AS events_in_window,
        count(*) OVER w_all AS window_days
    FROM daily
    WINDOW
        w_pre AS (PARTITION BY event_class ORDER BY day ROWS BETWEEN $pre_days PRECEDING AND 1 PRECEDING),
        w_post AS (PARTITION BY event_class ORDER BY day ROWS BETWEEN CURRENT ROW AND $post_days - 1 FOLLOWING),
        w_all AS (PARTITION BY event_class ORDER BY day
                  ROWS BETWEEN $pre_days PRECEDING AND $post_days - 1 FOLLOWING)
), judged AS (
    SELECT
        w.*,
        coalesce(w.pre, 0) AS pre_count,
        w.day + $post_days - 1 > s.newest_attack OR w.window_days < $pre_days + $post_days AS provisional,
        row_number() OVER (PARTITION BY w.event_class ORDER BY w.day) - 1 AS pos
    FROM windows w, span s
), placebo AS (
    -- an event's placebo days: same weekday, whole window in the data and free of events
    SELECT event_class, weekday, pre_count AS pre, post
    FROM judged
    WHERE events_in_window = 0 AND NOT provisional
), baseline AS (
    SELECT event_class, weekday, count(*) AS placebo_days, avg(pre) AS expected_pre, avg(post) AS expected_post
    FROM placebo
    GROUP BY event_class, weekday
), studied AS (
    -- each event day against the placebo days of its class and weekday
    SELECT
        j.event_class, j.day, j.pos, j.weekday, j.pre_count AS pre, j.post, j.provisional,
        b.placebo_days, b.expected_pre, b.expected_post,
        (SELECT count(*) FROM placebo p
         WHERE p.event_class = j.event_class AND p.weekday = j.weekday AND p.post < j.post) AS below,
        (SELECT count(*) FROM placebo p
         WHERE p.event_class = j.event_class AND p.weekday = j.weekday AND p.post = j.post) AS equal
    FROM judged j
    LEFT JOIN baseline b USING (event_class, weekday)
    WHERE j.event_day = 1
), per_day AS (
    SELECT
        *,
        CASE WHEN placebo_days > 0 THEN (below + 0.5 * equal) / placebo_days END AS percentile,
        CASE WHEN placebo_days > 0 THEN (1 + placebo_days - below) / (1.0 + placebo_days) END AS p_value
    FROM studied
), evidence AS (
    SELECT
        s.event_class, s.day,
        list_slice(list(a.cluster_id ORDER BY a.day, a.cluster_id) FILTER (WHERE a.cluster_id IS NOT NULL), 1, $max_ids)
            AS post_cluster_ids
    FROM per_day s
    LEFT JOIN attacks a ON a.day >= s.day AND a.day < s.day + $post_days
    WHERE $group = 'event'
    GROUP BY s.event_class, s.day
), closed AS (
    -- the event days a class row studies: whole window inside the data
    SELECT event_class, pos, pre, post FROM per_day WHERE NOT provisional
), domain AS (
    -- the positions of closed windows, from lo, cut to whole weeks so a shift keeps weekdays
    SELECT event_class, min(pos) AS lo, (count(*) // 7) * 7 AS span_days
    FROM judged
    WHERE NOT provisional AND $group = 'class'
    GROUP BY event_class
), shifts AS (
    -- every whole-week shift if there are at most `permutations`, else a seeded sample
    SELECT
        d.event_class, d.lo, d.span_days, t.r,
        CASE WHEN d.span_days // 7 - 1 <= $permutations THEN t.r
             ELSE 1 + portable_hash($seed, t.r) % (d.span_days // 7 - 1) END AS weeks
    FROM domain d
    CROSS JOIN range(1, $permutations + 1) AS t(r)
    WHERE t.r <= d.span_days // 7 - 1
), moved AS (
    -- where each closed event day lands under each shift
    SELECT sh.event_class, sh.r, sh.lo + (c.pos - sh.lo + 7 * sh.weeks) % sh.span_days AS pos
    FROM shifts sh
    JOIN closed c USING (event_class)
), shifted AS (
    SELECT m.event_class, m.r, avg(j.pre_count) AS pre, avg(j.post) AS post
    FROM moved m
    JOIN judged j USING (event_class, pos)
    GROUP BY m.event_class, m.r
), by_class AS (
    SELECT
        s.event_class,
        count(*) FILTER (WHERE NOT s.provisional) AS event_days,
        count(*) FILTER (WHERE s.provisional) AS provisional_days,
        avg(s.pre) FILTER (WHERE NOT s.provisional) AS pre,
        avg(s.post) FILTER (WHERE NOT s.provisional) AS post
    FROM per_day s
    WHERE $group = 'class'
    GROUP BY s.event_class
), class_baseline AS (
    SELECT
        c.event_class,
        avg(s.pre) AS expected_pre,
        avg(s.post) AS expected_post,
        count(s.r) AS shifts,
        count(*) FILTER (WHERE s.post < c.post) AS below,
        count(*) FILTER (WHERE s.post = c.post) AS equal
    FROM by_class c
    LEFT JOIN shifted s USING (event_class)
    GROUP BY c.event_class
), event_rows AS (
    SELECT
        e.event_class, e.day AS event_day, e.event_id, e.title AS event, s.weekday,
        s.pre, s.post, s.expected_pre, s.expected_post, s.percentile, s.p_value, s.placebo_days, s.provisional,
        v.post_cluster_ids, e.url
    FROM events e
    JOIN per_day s USING (event_class, day)
    JOIN evidence v USING (event_class, day)
)
SELECT
    event_class,
    NULL::DATE AS event_day,
    NULL AS event_id,
    NULL AS event,
    c.event_days,
    c.provisional_days,
    round(c.pre, 2) AS pre,
    round(c.post, 2) AS post,
    round(b.expected_pre, 2) AS expected_pre,
    round(b.expected_post, 2) AS expected_post,
    round(c.post / nullif(b.expected_post, 0), 2) AS ratio,
    round(CASE WHEN b.shifts > 0 THEN (b.below + 0.5 * b.equal) / b.shifts END, 3) AS percentile,
    round(CASE WHEN b.shifts > 0 THEN (1 + b.shifts - b.below) / (1.0 + b.shifts) END, 4) AS p_value,
    b.shifts AS baseline_size,
    NULL::BOOLEAN AS provisional,
    NULL::VARCHAR[] AS post_cluster_ids,
    NULL AS url
FROM by_class c
JOIN class_baseline b USING (event_class)
UNION ALL
SELECT
    event_class, event_day, event_id, event, 1, CASE WHEN provisional THEN 1 ELSE 0 END,
    pre, post, round(expected_pre, 2), round(expected_post, 2), round(post / nullif(expected_post, 0), 2),
    round(percentile, 3), round(p_value, 4), placebo_days, provisional, post_cluster_ids, url
FROM event_rows
WHERE $group = 'event'
ORDER BY event_class, event_day NULLS FIRST, event_id
