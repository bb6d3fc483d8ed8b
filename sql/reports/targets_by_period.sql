-- title: Incidents by target sector, country, attack type and period
-- description: How many attacks (clusters: an attack several sources reported counts once)
--   hit each sector and target country with each attack type, per week (ISO, Monday first)
--   or month, with period boundaries in the time zone `tz`. Sector and country come in the
--   pairs the targets give (a finance target in UKR; a target one source describes
--   only in part is counted once, by its fuller description); an attack with several targets or
--   attack types counts once in each, so rows do not add up to the number of attacks;
--   `attacks_in_period` is that number. An attack whose time span
--   does not fit inside one period (known only to a month, asked by week) is counted on a
--   row of its own with period '(spans periods)', never guessed into one. `cluster_ids`
--   lists the attacks behind each row.
-- param: period VARCHAR(week|month) = 'month'  the period to count by
-- param: tz TIMEZONE = 'UTC'  time zone of the period boundaries (the store stays UTC)
-- param: country COUNTRY = NULL  only attacks with a target in this country
-- param: sector SECTOR = NULL  only this sector
-- param: since DATE = NULL  first day (in tz) to count
-- param: until DATE = NULL  last day (in tz) to count, inclusive
-- example: cyberlog report run targets_by_period -p period=week -p tz=Europe/Kyiv -p country=UKR
-- example: cyberlog report run targets_by_period -p sector=finance --format csv --out finance.csv
WITH attacks AS (
    SELECT
        cluster_id, attack_types,
        timezone($tz, started_at) AS local_start,
        timezone($tz, started_latest) AS local_latest
    FROM v_attacks
), placed AS (
    SELECT
        *,
        date_trunc($period, local_start) AS period_start,
        CASE $period WHEN 'week' THEN date_trunc($period, local_start) + INTERVAL 7 DAY
                     ELSE date_trunc($period, local_start) + INTERVAL 1 MONTH END AS period_end
    FROM attacks
    WHERE ($since IS NULL OR local_latest > CAST($since AS TIMESTAMP))
      AND ($until IS NULL OR local_start < CAST($until AS TIMESTAMP) + INTERVAL 1 DAY)
), labelled AS (
    SELECT
        *,
        CASE
            WHEN local_latest > period_end THEN '(spans periods)'
            -- the ISO week (2022-W07): its year is the year of its Thursday
            WHEN $period = 'week' THEN CAST(year(period_start + INTERVAL 3 DAY) AS VARCHAR) || '-W'
                || lpad(CAST(weekofyear(period_start) AS VARCHAR), 2, '0')
            ELSE strftime(period_start, '%Y-%m')
        END AS period
    FROM placed
), pairs AS (
    SELECT DISTINCT cluster_id, sector, country FROM v_attack_targets
), informative AS (
    -- one source names the sector, another the sector and country of the same target: keep
    -- the fuller pair, so a half-described target does not count as a second one
    SELECT cluster_id, sector, country
    FROM (
        SELECT
            *,
            count(country) OVER (PARTITION BY cluster_id, sector) AS countries_for_sector,
            count(sector) OVER (PARTITION BY cluster_id, country) AS sectors_for_country,
            count(sector) OVER (PARTITION BY cluster_id) + count(country) OVER (PARTITION BY cluster_id) AS known
        FROM pairs
    )
    WHERE NOT (country IS NULL AND sector IS NOT NULL AND countries_for_sector > 0)
      AND NOT (sector IS NULL AND country IS NOT NULL AND sectors_for_country > 0)
      AND NOT (sector IS NULL AND country IS NULL AND known > 0)
), targeted AS (
    -- one row per attack and distinct (sector, country) of its targets; none: one empty row
    SELECT l.period, l.cluster_id, l.attack_types, t.sector, t.country
    FROM labelled l
    LEFT JOIN informative t USING (cluster_id)
), kept AS (
    SELECT * FROM targeted
    WHERE ($country IS NULL OR country = upper($country))
      AND ($sector IS NULL OR sector = lower($sector))
), per_period AS (
    SELECT period, count(DISTINCT cluster_id) AS attacks_in_period FROM kept GROUP BY period
)
SELECT
    k.period,
    k.sector,
    k.country AS target_country,
    attack_type,
    count(DISTINCT k.cluster_id) AS attacks,
    p.attacks_in_period,
    list(DISTINCT k.cluster_id ORDER BY k.cluster_id) AS cluster_ids
FROM kept k
JOIN per_period p USING (period),
    unnest(k.attack_types) AS a(attack_type)
GROUP BY k.period, k.sector, k.country, attack_type, p.attacks_in_period
ORDER BY k.period, k.sector NULLS LAST, k.country NULLS LAST, attack_type
