"""The days of a stop's weekly visits: every pattern that keeps tours.min_gap_days is open
to the vans, and a visit left out says whether that rule or the fleet keeps it out."""

from __future__ import annotations

import itertools

import pytest

from planner.report.tour_tables import NAMED_STOPS, unserved_view
from planner.tours import plan_tours
from planner.tours.result import UNSERVED_REASONS
from planner.tours.timing import visit_days, visit_layouts
from tests.test_tours import line_matrix, tours, villages


def _patterns(n_days: int, per_week: int, gap: int) -> set[tuple[int, ...]]:
    """Every set of visit days that keeps the gap, by brute force."""
    return {
        days
        for days in itertools.combinations(range(n_days), per_week)
        if all(b - a >= gap for a, b in itertools.pairwise(days))
    }


@pytest.mark.parametrize(
    ("n_days", "per_week", "gap"),
    [(5, 2, 2), (5, 2, 1), (5, 3, 1), (5, 3, 2), (6, 2, 2), (7, 3, 2)],
)
def test_the_layouts_allow_exactly_the_patterns_that_keep_the_gap(n_days, per_week, gap):
    layouts = visit_layouts(n_days, per_week, min_gap=gap)
    allowed = {days for layout in layouts for days in itertools.product(*layout)}
    assert allowed == _patterns(n_days, per_week, gap)
    assert layouts[0] == visit_days(n_days, per_week, min_gap=gap)
    used = {d for layout in layouts for block in layout for d in block}
    assert used == {d for days in allowed for d in days}


def test_twice_a_week_may_fall_on_any_weekday():
    # the old blocks (Mon/Tue, Thu/Fri) never allowed Wednesday
    layouts = visit_layouts(5, 2, min_gap=None)
    allowed = {days for layout in layouts for days in itertools.product(*layout)}
    assert {(0, 2), (2, 4), (1, 3), (0, 3), (0, 4), (1, 4)} == allowed


def _days_of(plan) -> dict[str, list[int]]:
    order = ["mon", "tue", "wed", "thu", "fri"]
    out: dict[str, list[int]] = {}
    for t in plan.tours:
        for v in t.visits:
            out.setdefault(v.stop_id, []).append(order.index(t.day))
    return {k: sorted(v) for k, v in out.items()}


def test_twice_a_week_uses_wednesday_when_the_other_days_are_full():
    # 90 min per village and at most 40 min driving: 5 visits fill a 9-hour shift. 12
    # villages twice a week are 24 visits: Mon, Tue, Thu and Fri hold 20 of them
    stops = villages(12)
    plan = plan_tours(
        stops,
        line_matrix([0, *range(1, 13)]),
        tours(service_min=90, villages={"per_week": 2}, iterations=1000),
        depot_ids=["R1"],
    )
    # the old blocks held 20; which stops may go on Wednesday is a heuristic's choice
    assert 20 < plan.visits_served <= 24
    assert plan.visits_served + sum(u.missing for u in plan.unserved) == 24
    days = _days_of(plan)
    assert any(2 in d for d in days.values())  # Wednesday
    assert all(len(d) == 1 or d[1] - d[0] >= 2 for d in days.values())
    for stop, d in days.items():  # visits numbered in the order of the week
        numbers = [
            v.visit for t in sorted(plan.tours, key=lambda t: ["mon", "tue", "wed", "thu", "fri"]
                                    .index(t.day)) for v in t.visits if v.stop_id == stop
        ]  # fmt: skip
        assert numbers == list(range(1, len(d) + 1))


def test_a_visit_kept_off_idle_days_by_the_gap_says_so():
    # over Mon-Wed, 2 visits 2 days apart fall on Mon and Wed only: 6 villages need 12
    # visits, one van makes 5 a day, and Tuesday has room the gap keeps them from
    stops = villages(6)
    m = line_matrix([0, *range(1, 7)])
    week = ["mon", "tue", "wed"]
    cfg = tours(service_min=90, days=week, villages={"per_week": 2})
    plan = plan_tours(stops, m, cfg, depot_ids=["R1"])
    left = sum(u.missing for u in plan.unserved)
    assert left > 0 and plan.visits_served + left == 12
    assert {u.reason for u in plan.unserved} == {"visit_days"}
    assert "tours.min_gap_days" in UNSERVED_REASONS["visit_days"]
    assert all(len(d) < 2 or d[1] - d[0] >= 2 for d in _days_of(plan).values())
    # a day apart, Tuesday takes them
    closer = plan_tours(stops, m, cfg.model_copy(update={"min_gap_days": 1}), depot_ids=["R1"])
    assert closer.visits_served == 12 and closer.unserved == []


def test_a_visit_no_day_has_room_for_is_the_fleets():
    # 3 visits 2 days apart over Mon-Fri: Mon, Wed, Fri; a stop whose visits the repair
    # put on Tue and Thu (2 apart) has no room left on the days it is not visited
    plan = plan_tours(
        villages(6),
        line_matrix([0, *range(1, 7)]),
        tours(service_min=90, villages={"per_week": 3}),
        depot_ids=["R1"],
    )
    days = _days_of(plan)
    assert plan.visits_served > 15  # Mon, Wed and Fri hold 15
    assert all(all(b - a >= 2 for a, b in itertools.pairwise(d)) for d in days.values())
    assert plan.unserved and {u.reason for u in plan.unserved} == {"fleet"}


def test_the_report_groups_the_visits_left_out_by_reason():
    n = NAMED_STOPS + 2
    items = [
        {"stop_id": f"d{i}", "name": f"村{i}", "missing": 1, "reason": "fleet"} for i in range(n)
    ] + [{"stop_id": "s1", "name": "站", "missing": 2, "reason": "round_trip"}]
    table = unserved_view({"unserved": items})
    assert len(table) == 2
    first = table.iloc[0].tolist()  # most visits first
    assert first[0] == UNSERVED_REASONS["fleet"]
    assert first[1:3] == [str(n), str(n)]
    assert first[3].startswith("村0 (d0), 村1 (d1)") and first[3].endswith("and 2 more")
    assert f"村{n - 1}" not in first[3]
    assert table.iloc[1].tolist() == [UNSERVED_REASONS["round_trip"], "1", "2", "站 (s1)"]
