-- title: Incidents by target sector, country, attack type and period
-- description: How many attacks (clusters: an attack several sources reported counts once)
--   hit each sector and target country with each attack type, per week (ISO, Monday first)
--   or month, with period boundaries in the time zone `tz`. An attack with several sectors,
--   countries or attack types counts once in each combination, so rows do not add up to
--   the number of attacks; `attacks_in_period` is that number. An attack whose time span
--   does not fit inside one period (known only to a month, asked by week) is counted on a
--   row of its own with period '(spans periods)', never guessed into one. `cluster_ids`
--   lists the attacks behind each row.
-- param: period VARCHAR(week|month) = 'month'  the period to count by
-- param: tz TIMEZONE = 'UTC'  time zone of the period boundaries (the store stays UTC)
-- param: country VARCHAR = NULL  only attacks on this target country (ISO alpha-3)
-- param: sector VARCHAR(government|military|finance|energy|telecom|media|transport|health|education|other) = NULL  only this sector
-- param: since DATE = NULL  first day (in tz) to count
-- param: until DATE = NULL  last day (in tz) to count, inclusive
-- example: cyberlog report run targets_by_period -p period=week -p tz=Europe/Kyiv -p country=UKR
-- example: cyberlog report run targets_by_period -p sector=finance --format csv --out finance.csv
WITH attacks AS (
    SELECT
        cluster_id, attack_types, target_sectors, target_countries,
        timezone($tz, started_at) AS local_start,
        timezone($tz, started_latest) AS local_latest
    FROM v_clusters
    WHERE ($country IS NULL OR list_contains(target_countries, upper($country)))
      AND ($sector IS NULL OR list_contains(target_sectors, lower($sector)))
), placed AS (
    SELECT
        *,
        date_trunc($period, local_start) AS period_start,
        date_trunc($period, local_start) + CASE $period WHEN 'week' THEN INTERVAL 7 DAY ELSE INTERVAL 1 MONTH END
            AS period_end
    FROM attacks
    WHERE ($since IS NULL OR local_latest > CAST($since AS TIMESTAMP))
      AND ($until IS NULL OR local_start < CAST($until AS TIMESTAMP) + INTERVAL 1 DAY)
), labelled AS (
    SELECT
        *,
        CASE
            WHEN local_latest > period_end THEN '(spans periods)'
            WHEN $period = 'week' THEN strftime(period_start, '%G-W%V')
            ELSE strftime(period_start, '%Y-%m')
        END AS period
    FROM placed
), per_period AS (
    SELECT period, count(*) AS attacks_in_period FROM labelled GROUP BY period
)
SELECT
    l.period,
    sector,
    country AS target_country,
    attack_type,
    count(DISTINCT l.cluster_id) AS attacks,
    p.attacks_in_period,
    list(DISTINCT l.cluster_id ORDER BY l.cluster_id) AS cluster_ids
FROM labelled l
JOIN per_period p USING (period),
    unnest(CASE WHEN len(l.target_sectors) = 0 THEN [NULL] ELSE l.target_sectors END) AS s(sector),
    unnest(CASE WHEN len(l.target_countries) = 0 THEN [NULL] ELSE l.target_countries END) AS c(country),
    unnest(l.attack_types) AS a(attack_type)
WHERE ($sector IS NULL OR sector = lower($sector))
GROUP BY l.period, sector, country, attack_type, p.attacks_in_period
ORDER BY l.period, sector NULLS LAST, country NULLS LAST, attack_type
