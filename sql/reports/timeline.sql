-- title: Timeline of incidents and diplomatic events
-- description: Incidents and diplomatic events merged in time order, side by side.
--   `happened_at` is the earliest instant a record allows and `time_precision` how far it may
--   stretch (a day-precision record covers that whole UTC day). `country` matches an
--   incident's target country or an event's actor country; the date range keeps every
--   record that may fall inside it. An attack several sources reported is one row: `records`
--   counts them and `source` lists them (see `cyberlog clusters show ID`).
-- param: country VARCHAR = NULL  ISO 3166 alpha-3 code such as UKR; default all countries
-- param: since DATE = NULL  first UTC day to show; default the beginning
-- param: until DATE = NULL  last UTC day to show, inclusive; default the end
-- param: kind VARCHAR(incident|event) = NULL  only incidents or only events; default both
-- example: cyberlog report run timeline -p since=2022-02-14 -p until=2022-02-16
-- example: cyberlog report run timeline -p country=UKR --format csv --out timeline.csv
SELECT
    happened_at,
    time_precision,
    kind,
    category,
    title,
    array_to_string(countries, ';') AS countries,
    source,
    source_ref,
    id,
    url,
    records
FROM v_timeline
WHERE ($country IS NULL OR list_contains(countries, upper($country)))
  AND ($since IS NULL OR happened_latest > CAST($since AS DATE))
  AND ($until IS NULL OR happened_at < CAST($until AS DATE) + INTERVAL 1 DAY)
  AND ($kind IS NULL OR kind = lower($kind))
ORDER BY happened_at, kind DESC, id
