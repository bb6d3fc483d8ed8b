"""lead_lag's draws compute the Granger F straight from one least-squares solve: it must be
statsmodels' own statistic, or the draws would judge the data by another test."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.api import VAR

from ingest.reports import leadlag


@pytest.mark.parametrize(("order", "trend", "seed"), [(1, "none", 1), (5, "month", 2), (9, "quarter", 3)])
def test_the_draws_f_is_statsmodels_granger_f(order: int, trend: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    days = [date(2021, 1, 4) + timedelta(days=n) for n in range(700)]
    events = rng.poisson(0.4, len(days)).astype(float)
    attacks = rng.poisson(1.5, len(days)).astype(float)
    attacks[1:] += 2 * events[:-1]  # attacks the day after events
    exog = leadlag._controls(days, trend)
    exog = exog.loc[:, exog.iloc[order:].std() > 0] if trend != "none" else exog
    fitted = VAR(pd.DataFrame({"attacks": attacks, "events": events}), exog=exog).fit(order, trend="n")
    mine = leadlag.granger_f(np.column_stack([attacks, events]), exog.to_numpy(dtype=float), order)
    for cause, effect in leadlag.DIRECTIONS:
        assert mine[(cause, effect)] == pytest.approx(fitted.test_causality(effect, [cause], kind="f").test_statistic)
    assert mine[("events", "attacks")] > 10 > mine[("attacks", "events")]


def test_turns_move_days_by_whole_weeks_within_their_block() -> None:
    (turn,) = leadlag._turns(days=60, block_weeks=4, draws=1, seed=7)
    assert sorted(turn) == list(range(60))
    for day, source in enumerate(turn):
        assert (day - source) % 7 == 0
        assert day // 28 == source // 28 or day >= 56  # days past the last whole week stay put
    assert all(turn[56:] == range(56, 60))
