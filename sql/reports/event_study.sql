-- title: Event study: attacks before and after diplomatic events, against placebo days
-- description: Did attacks (clusters, counted once however many sources reported them)
--   come more often after diplomatic events of a class than on comparable days without
--   one? For each event day, `pre` counts attacks in the `pre_days` days before it and
--   `post` in the event's day and the `post_days` - 1 days after, by day boundaries in
--   `tz`. The baseline is every placebo day: a day whose whole window (pre and post) holds
--   no event of that class, inside the studied span, with the same weekday as the event
--   (attacks and diplomacy both follow the working week). `expected_post` is the placebo
--   mean, `ratio` observed / expected, `percentile` where the observed count falls among
--   the placebo days (ties count half), `p_value` the share of placebo days with at least
--   as many attacks (add-one, one-sided). With `group` = class (the default), one row per
--   class: `post` is the mean over its event days, and the p-value comes from
--   `permutations` random draws of one same-weekday placebo day per event day (fixed
--   `seed`): how often does a random set of days look at least as busy? (No p-value is
--   smaller than one in the number of distinct placebo sets plus one.) A window that
--   reaches past the newest attack is `provisional` and left out of class rows. Attacks
--   and events known less precisely than a day are not counted; only event days count,
--   so several events on one day are one study point. Read a p-value with the number of
--   classes and events tried in mind: among ten classes one will look unusual by chance.
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
-- param: permutations INTEGER = 1000  random placebo draws for the class p-value
-- param: seed INTEGER = 42  seed of those draws: the same seed gives the same p-values
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
        w.day + $post_days - 1 > s.newest_attack OR w.window_days < $pre_days + $post_days AS provisional
    FROM windows w, span s
), placebo AS (
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
        j.event_class, j.day, j.weekday, j.pre_count AS pre, j.post, j.provisional,
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
        list(DISTINCT a.cluster_id ORDER BY a.cluster_id) FILTER (WHERE a.cluster_id IS NOT NULL) AS post_cluster_ids
    FROM per_day s
    LEFT JOIN attacks a ON a.day >= s.day AND a.day < s.day + $post_days
    GROUP BY s.event_class, s.day
), draws AS (
    -- `permutations` random sets of one same-weekday placebo day per closed event day
    SELECT
        s.event_class, r.r,
        avg(p.post) AS mean_post
    FROM (SELECT *, row_number() OVER (PARTITION BY event_class ORDER BY day) AS i
          FROM per_day WHERE NOT provisional AND placebo_days > 0) s
    CROSS JOIN range(1, $permutations + 1) AS r(r)
    JOIN (SELECT event_class, weekday, post,
                 row_number() OVER (PARTITION BY event_class, weekday ORDER BY post, pre) - 1 AS k
          FROM placebo) p
      ON p.event_class = s.event_class AND p.weekday = s.weekday
     AND p.k = hash($seed, r.r, s.i) % s.placebo_days
    WHERE $group = 'class'
    GROUP BY s.event_class, r.r
), by_class AS (
    SELECT
        s.event_class,
        count(*) FILTER (WHERE NOT s.provisional) AS event_days,
        count(*) FILTER (WHERE s.provisional) AS provisional_days,
        avg(s.pre) FILTER (WHERE NOT s.provisional) AS pre,
        avg(s.post) FILTER (WHERE NOT s.provisional) AS post,
        avg(s.expected_pre) FILTER (WHERE NOT s.provisional) AS expected_pre,
        avg(s.expected_post) FILTER (WHERE NOT s.provisional) AS expected_post,
        avg(s.percentile) FILTER (WHERE NOT s.provisional) AS percentile,
        min(s.placebo_days) AS placebo_days
    FROM per_day s
    GROUP BY s.event_class
), resolution AS (
    -- a random draw cannot show more than one in (1 + the number of distinct placebo sets)
    SELECT event_class, 1 / (1 + exp(sum(ln(placebo_days)))) AS floor_p
    FROM per_day
    WHERE NOT provisional AND placebo_days > 0
    GROUP BY event_class
), class_p AS (
    SELECT
        c.event_class,
        greatest((1 + count(d.r) FILTER (WHERE d.mean_post >= c.post)) / (1.0 + count(d.r)), max(f.floor_p))
            AS p_value
    FROM by_class c
    LEFT JOIN draws d USING (event_class)
    LEFT JOIN resolution f USING (event_class)
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
    round(c.expected_pre, 2) AS expected_pre,
    round(c.expected_post, 2) AS expected_post,
    round(c.post / nullif(c.expected_post, 0), 2) AS ratio,
    round(c.percentile, 3) AS percentile,
    round(p.p_value, 4) AS p_value,
    c.placebo_days AS min_placebo_days,
    NULL::BOOLEAN AS provisional,
    NULL::VARCHAR[] AS post_cluster_ids,
    NULL AS url
FROM by_class c
JOIN class_p p USING (event_class)
WHERE $group = 'class'
UNION ALL
SELECT
    event_class, event_day, event_id, event, 1, CASE WHEN provisional THEN 1 ELSE 0 END,
    pre, post, round(expected_pre, 2), round(expected_post, 2), round(post / nullif(expected_post, 0), 2),
    round(percentile, 3), round(p_value, 4), placebo_days, provisional, post_cluster_ids, url
FROM event_rows
WHERE $group = 'event'
ORDER BY event_class, event_day NULLS FIRST, event_id
