"""Granger tests both ways between daily attacks and events: the `lead_lag` report's compute step.

DuckDB builds the daily series (`sql/reports/lead_lag.sql`); this fits a VAR on them with
statsmodels, weekday and calendar-period terms as exogenous controls, and computes the F
statistic of Granger non-causality in each direction. The F distribution's own p-value
assumes the controls absorbed every shared surge, and on seeded worlds where both series
surge together it called chance significant about half the time; so `p_value` comes from
the same local null as the other reports: the event series turned by whole weeks within
blocks of `block_weeks` weeks, the F statistics refitted on each draw. statsmodels and
numpy are imported here only, when the report runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from ingest.reports.export import counted

COLUMNS = [
    "cause",
    "effect",
    "event_class",
    "lag_order",
    "max_lag",
    "f",
    "df_num",
    "df_den",
    "p_f",
    "p_value",
    "p_adjusted",
    "tests",
    "min_p",
    "note",
    "draws",
    "days",
    "attack_days",
    "event_days",
    "null_model",
    "span_from",
    "span_to",
]
DIRECTIONS = (("events", "attacks"), ("attacks", "events"))
MIN_ACTIVE_DAYS = 10  # days with at least one record, per series, before a test means anything


def granger(rows: list[tuple[Any, ...]], params: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Two rows, one per direction, from the daily (day, attacks, events) rows."""
    days = [r[0] for r in rows]
    attacks = [float(r[1]) for r in rows]
    events = [float(r[2]) for r in rows]
    max_lag = max(1, int(params["max_lag"]))
    base = {
        "event_class": params["event_class"],
        "max_lag": max_lag,
        "days": len(days),
        "attack_days": sum(a > 0 for a in attacks),
        "event_days": sum(e > 0 for e in events),
        "span_from": days[0] if days else None,
        "span_to": days[-1] if days else None,
        "null_model": _null_model(params["trend"], params["block_weeks"]),
    }
    sparse = _too_sparse(base, len(days), max_lag, params["trend"])
    results = {d: {"note": sparse} for d in DIRECTIONS} if sparse else _tests(days, attacks, events, max_lag, params)
    found = [dict(base, cause=c, effect=e, **results[(c, e)]) for c, e in DIRECTIONS]
    _adjust(found)
    return COLUMNS, [tuple(row.get(name) for name in COLUMNS) for row in found]


def _null_model(trend: str, block_weeks: int) -> str:
    terms = {"month": "calendar-month levels", "quarter": "calendar-quarter levels", "none": "one level"}[trend]
    return (
        f"no Granger causality: F of a VAR on daily counts (weekday terms, {terms}, order by AIC) "
        f"against whole-week turns of the events within {max(1, block_weeks)}-week blocks"
    )


def _too_sparse(base: dict[str, Any], days: int, max_lag: int, trend: str) -> str | None:
    if base["attack_days"] < MIN_ACTIVE_DAYS or base["event_days"] < MIN_ACTIVE_DAYS:
        return (
            f"no test: attacks on {counted(base['attack_days'], 'day')} and events on "
            f"{counted(base['event_days'], 'day')} "
            f"(at least {MIN_ACTIVE_DAYS} each are needed)"
        )
    periods = {"month": days / 30, "quarter": days / 91, "none": 1}[trend]
    if days < 4 * max_lag + periods + 20:
        return f"no test: {days} days are too few for {max_lag} lags and the {trend} terms"
    return None


def _controls(days: list[date], trend: str) -> Any:
    """Weekday dummies (Monday as the reference) and one level per calendar period."""
    import pandas as pd

    frame = pd.DataFrame({"day": pd.to_datetime(days)})
    weekday = pd.get_dummies(frame["day"].dt.day_of_week, prefix="wd", drop_first=True, dtype=float)
    if trend == "none":
        level = pd.DataFrame({"level": 1.0}, index=frame.index)
    else:
        period = frame["day"].dt.to_period("M" if trend == "month" else "Q").astype(str)
        level = pd.get_dummies(period, prefix="p", dtype=float)
    return pd.concat([level, weekday], axis=1)


def _tests(
    days: list[date], attacks: list[float], events: list[float], max_lag: int, params: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    import numpy as np
    import pandas as pd
    from statsmodels.tsa.api import VAR

    exog = _controls(days, params["trend"])
    exog = exog.loc[:, exog.iloc[max_lag:].std() > 0].copy()  # a period with no day left after the lags
    if "level" not in exog and not any(c.startswith("p_") for c in exog):
        exog["level"] = 1.0
    observed = pd.DataFrame({"attacks": attacks, "events": events})
    order = max(1, int(VAR(observed, exog=exog).select_order(maxlags=max_lag, trend="n").aic))
    fitted = VAR(observed, exog=exog).fit(order, trend="n")
    controls = exog.to_numpy(dtype=float)
    series = np.column_stack([attacks, events])
    turns = _turns(len(days), max(1, int(params["block_weeks"])), int(params["permutations"]), int(params["seed"]))
    test_events = granger_draws(series[:, 0], controls, order)
    seen = test_events(series[:, 1])
    draws = [test_events(series[turn, 1]) for turn in turns]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for cause, effect in DIRECTIONS:
        test = fitted.test_causality(effect, [cause], kind="f")
        above = sum(int(d[(cause, effect)] >= seen[(cause, effect)] * (1 - 1e-12)) for d in draws)
        df_num, df_den = test.df
        found[(cause, effect)] = {
            "lag_order": order,
            "f": round(float(test.test_statistic), 3),
            "df_num": int(df_num),
            "df_den": int(df_den),
            "p_f": round(float(test.pvalue), 4),
            "p_value": round((1 + above) / (1 + len(draws)), 4),
            "min_p": round(1 / (1 + len(draws)), 4),
            "draws": len(draws),
        }
        if found[(cause, effect)]["min_p"] > 0.05:
            least = 1 / (1 + len(draws))
            found[(cause, effect)]["note"] = f"cannot reach 0.05: {len(draws)} draws give p >= {least:.3f}"
    return found


def granger_f(series: Any, controls: Any, order: int) -> dict[tuple[str, str], float]:
    """The Granger F statistic of each direction, for a VAR of `order` lags of the two
    columns of `series` (attacks, events) on the `controls`: what statsmodels'
    VAR.test_causality (kind f) gives, from the normal equations (a test holds the two equal)."""
    return granger_draws(series[:, 0], controls, order)(series[:, 1])


def granger_draws(attacks: Any, controls: Any, order: int) -> Callable[[Any], dict[tuple[str, str], float]]:
    """Granger F of both directions for any event series beside these attacks. The draws
    refit the VAR hundreds of times, and statsmodels' model objects cost 8 s of a 9-year
    series' report: here what does not move with the events (the controls and the attacks'
    lags, and their cross products) is computed once, and a draw costs one small solve."""
    import numpy as np

    days = len(attacks)

    def lagged(column: Any) -> Any:
        return np.column_stack([column[order - lag : days - lag] for lag in range(1, order + 1)])

    fixed = np.column_stack([controls[order:], lagged(attacks)])
    fixed_cross = fixed.T @ fixed
    first_attack_lag = controls.shape[1]

    def tests(events: Any) -> dict[tuple[str, str], float]:
        moving = lagged(events)
        target = np.column_stack([attacks[order:], events[order:]])
        cross = fixed.T @ moving
        design_cross = np.block([[fixed_cross, cross], [cross.T, moving.T @ moving]])
        design_target = np.vstack([fixed.T @ target, moving.T @ target])
        inverse = np.linalg.pinv(design_cross, hermitian=True)
        coef = inverse @ design_target
        sigma = (target.T @ target - coef.T @ design_target) / (target.shape[0] - design_cross.shape[0])
        found = {}
        for cause, effect, first in (("events", "attacks", fixed.shape[1]), ("attacks", "events", first_attack_lag)):
            columns = list(range(first, first + order))
            e = 0 if effect == "attacks" else 1
            b = coef[columns, e]
            found[(cause, effect)] = float(
                b @ np.linalg.solve(inverse[np.ix_(columns, columns)] * sigma[e, e], b) / order
            )
        return found

    return tests


def _turns(days: int, block_weeks: int, draws: int, seed: int) -> list[Any]:
    """Index arrays that turn a daily series by a seeded whole number of weeks within each block
    (days past the last whole week stay where they are): the reports' local null."""
    import numpy as np

    rng = np.random.default_rng(seed)
    whole, block = days // 7 * 7, block_weeks * 7
    starts = list(range(0, whole, block))
    turns = []
    for _ in range(draws):
        index = np.arange(days)
        for start in starts:
            length = min(block, whole - start)
            shift = 7 * int(rng.integers(length // 7))
            index[start : start + length] = start + (np.arange(length) + shift) % length
        turns.append(index)
    return turns


def _adjust(rows: list[dict[str, Any]]) -> None:
    """Benjamini-Hochberg over the directions that were tested."""
    tested = sorted((r for r in rows if r.get("p_value") is not None), key=lambda r: r["p_value"])
    running = 1.0
    for rank in range(len(tested), 0, -1):
        row = tested[rank - 1]
        running = min(running, row["p_value"] * len(tested) / rank)
        row["p_adjusted"] = round(running, 4)
        row["tests"] = len(tested)
