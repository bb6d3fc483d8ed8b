-- title: Lead and lag: Granger tests both ways between daily attacks and events of a class
-- description: Does one series help predict the other beyond its own past? DuckDB builds
--   the daily counts of attacks (clusters) and of events of `event_class` over the span
--   where both have data (or `since`/`until`), days in `tz`; statsmodels fits a VAR on
--   them with weekday terms and calendar-period terms (`trend`: one level per month or
--   quarter, which absorbs surges and slow trends), its lag order chosen by AIC up to
--   `max_lag` days, and runs the F test of Granger non-causality in both directions: one
--   row with `cause` = events (do attacks follow events?) and one with `cause` = attacks
--   (do events follow attacks?). `f`, `df_num`, `df_den` and `p_f` are the F test's own;
--   `p_f` trusts the controls to absorb every shared surge, which on seeded worlds with a
--   common crisis they did not, so `p_value` is the share of `draws` (the event series
--   turned by whole weeks within blocks of `block_weeks` weeks, as in the other reports,
--   the VAR refitted on each) with an F at least as large, and `p_adjusted`
--   Benjamini-Hochberg over the two directions (`tests`); `min_p` is the smallest p the
--   draws can give. Read both rows
--   together: one direction significant is a lead; both is shared dynamics the controls did
--   not absorb; neither is what the published work finds once base rates are controlled for.
--   `note` says when a series is too sparse to test. The null is named in `null_model`.
--   Runs on DuckDB only (the test is Python, over the series DuckDB builds). Attacks and
--   events known less precisely than a day are not counted.
-- compute: granger
-- param: event_class EVENT_CLASS = 'military'  events of this class
-- param: max_lag INTEGER = 14  most days of lag the VAR may use (AIC picks the order)
-- param: trend VARCHAR(month|quarter|none) = 'month'  calendar-period levels that absorb surges and trends
-- param: tz TIMEZONE = 'UTC'  time zone of the day boundaries (the store stays UTC)
-- param: country COUNTRY = NULL  only attacks with a target in this country
-- param: event_country COUNTRY = NULL  only events with an actor from this country
-- param: attack_type ATTACK_TYPE = NULL  only this attack type
-- param: block_weeks INTEGER = 4  the null turns the events by whole weeks within blocks of this many weeks
-- param: permutations INTEGER = 199  null draws (each refits the VAR)
-- param: seed INTEGER = 42  seed of the draws: the same seed gives the same p-values
-- param: since DATE = NULL  first day of the series [default: the first day both attacks and events have data]
-- param: until DATE = NULL  last day of the series [default: the last day both have data]
-- example: cyberlog report run lead_lag -p event_class=sanction -p country=UKR
WITH precisions AS (
    SELECT ['second', 'minute', 'hour', 'day'] AS daily
), attacks AS (
    SELECT CAST(timezone($tz, started_at + (started_latest - started_at) / 2) AS DATE) AS day
    FROM v_attacks, precisions
    WHERE list_contains(daily, time_precision)
      AND ($country IS NULL OR cluster_id IN (SELECT cluster_id FROM v_attack_targets WHERE country = upper($country)))
      AND ($attack_type IS NULL OR list_contains(attack_types, lower($attack_type)))
), events AS (
    SELECT CAST(timezone($tz, occurred_at + (occurred_latest - occurred_at) / 2) AS DATE) AS day
    FROM diplomatic_events, precisions
    WHERE list_contains(daily, time_precision)
      AND event_class = lower($event_class)
      AND ($event_country IS NULL OR list_contains(actor_countries, upper($event_country)))
), span AS (
    SELECT
        coalesce($since, greatest((SELECT min(day) FROM attacks), (SELECT min(day) FROM events))) AS first_day,
        coalesce($until, least((SELECT max(day) FROM attacks), (SELECT max(day) FROM events))) AS last_day
), days AS (
    SELECT CAST(d AS DATE) AS day
    FROM span, generate_series(CAST(first_day AS TIMESTAMP), CAST(last_day AS TIMESTAMP), INTERVAL 1 DAY) AS g(d)
)
SELECT
    d.day,
    coalesce(a.attacks, 0) AS attacks,
    coalesce(e.events, 0) AS events
FROM days d
LEFT JOIN (SELECT day, count(*) AS attacks FROM attacks GROUP BY day) a USING (day)
LEFT JOIN (SELECT day, count(*) AS events FROM events GROUP BY day) e USING (day)
ORDER BY d.day
