"""The schedule's clock around the lunch break: arrival, service start, wait and lunch."""

from __future__ import annotations

from planner.i18n import translator
from planner.report.plan_tables import header
from planner.report.tour_sheets import schedule_table
from planner.tours import plan_tours, schedule_frame
from tests.test_tours import line_matrix, tours, villages

EN = translator("en")


def _plan(km: list[float], window: list[str]):
    stops = villages(len(km), kind="stations")
    cfg = tours(
        stops=["stations"],
        lunch_start="12:00",
        stations={"time_window": window},
        vans_per_point=len(km),
        days=["mon"],
    )
    return plan_tours(stops, line_matrix([0, *km]), cfg, depot_ids=["R1"])


def test_a_van_never_arrives_before_it_leaves_and_waits_add_up():
    # a station at the repair point itself, open from the end of the lunch break
    plan = _plan([0.0], ["13:00", "16:00"])
    (tour,) = plan.tours
    (visit,) = tour.visits
    assert tour.km == 0
    assert visit.arrival_min >= tour.start_min
    assert visit.start_min == 13 * 60
    assert visit.wait_min == visit.start_min - visit.arrival_min


def test_the_lunch_break_before_a_service_is_shown_and_waited():
    # 1 km out, open from 13:00: the van arrives by noon and waits over lunch (it was
    # printed as a wait of 0 between arriving at 12:00 and leaving at 13:30)
    plan = _plan([1.0], ["13:00", "16:00"])
    (visit,) = plan.tours[0].visits
    assert visit.arrival_min <= 12 * 60 and visit.start_min == 13 * 60
    assert visit.lunch_min == 12 * 60
    assert visit.wait_min == visit.start_min - visit.arrival_min >= 60
    frame = schedule_frame(plan)
    assert frame.loc[0, "lunch"] == "12:00" and frame.loc[0, "start"] == "13:00"
    table = schedule_table(frame, lang=EN)
    start, lunch = header("start", EN), header("lunch", EN)
    assert {start, lunch} <= set(table.columns)
    assert table.loc[0, start] == "13:00" and table.loc[0, lunch] == "12:00"
    assert list(table.columns).index(start) == list(table.columns).index(header("arrival", EN)) + 1


def test_a_service_before_lunch_has_no_lunch():
    plan = _plan([1.0], ["08:00", "11:00"])
    (visit,) = plan.tours[0].visits
    assert visit.lunch_min is None and visit.wait_min == visit.start_min - visit.arrival_min
