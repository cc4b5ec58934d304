"""Benchmarks against baselines in the same run (logic in the benchmarks/ folder).

The paths below are relative to the repository root; the script puts the root on sys.path
to import benchmarks/, which is not installed with the package.

python scripts/benchmark.py pmed ../shared/bench/pmed/pmed*.txt [--methods planner,dense]
python scripts/benchmark.py cap ../shared/bench/cflp/cap*.txt
python scripts/benchmark.py points --n 1500 > pts.csv
python scripts/benchmark.py mclp pts.csv --p 20 --radius 5
python scripts/benchmark.py points --sites 1000 --n 100000 --square 30 --weights 1-100 \
    --seed 1 --out-sites s1.csv --out-demand d1.csv
python scripts/benchmark.py mclp --sites s1.csv d1.csv --p 15 --radius 4.25 \
    --methods planner --gap 0.001 --time-limit 600 --checkpoints 60,600
python scripts/benchmark.py matrix --nodes 50000 --origins 200 --destinations 2000
python scripts/benchmark.py county --demo-scale 20 --gap 0.001 --time-limit 60
python scripts/benchmark.py county --config data/raw/liechtenstein.yaml --methods stations
python scripts/benchmark.py batch --counties 6 --scale 0.5 --workers 1,2
python scripts/benchmark.py province --counties 30 --scale 0.3 --workers 1,2
python scripts/benchmark.py vrptw ../shared/bench/vrptw/solomon/*.txt --time-limit 5
python scripts/benchmark.py tours --scale 5 --fleet 5 --villages 300 --time-limit 600
python scripts/benchmark.py tours --scale 20 --demo-tours --set solver.mip_gap=0.05
python scripts/benchmark.py postgis --points 100000 --url postgresql://postgres@127.0.0.1:5432/gis
python scripts/benchmark.py stages --config data/raw/demo/qingxi.yaml --set demand.resolution_m=100
"""

import argparse
import logging
import sys
from pathlib import Path

# benchmarks/ sits beside scripts/ and is not installed with the package
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    batch,
    county,
    instances,
    locate,
    matrix,
    postgis,
    province,
    stages,
    tours,
    vrptw,
)
from planner.errors import DataError, PlannerError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    pm = sub.add_parser("pmed", help="OR-Library p-median files")
    pm.add_argument("files", nargs="+", type=Path)
    pm.add_argument("--methods", default="planner,spopt,dense")
    pm.add_argument("--time-limit", type=float, default=300.0, help="seconds per solve")
    cp = sub.add_parser("cap", help="OR-Library capacitated warehouse location files")
    cp.add_argument("files", nargs="+", type=Path)
    cp.add_argument("--time-limit", type=float, default=300.0, help="seconds per solve")
    mc = sub.add_parser(
        "mclp",
        help="maximal covering: one CSV of x, y, weight (every point demand and site), "
        "or --sites SITES.csv DEMAND.csv",
    )
    mc.add_argument("points", type=Path, nargs="?", help="CSV of x, y, weight")
    mc.add_argument(
        "--sites",
        type=Path,
        nargs=2,
        metavar=("SITES", "DEMAND"),
        help="candidate sites (x, y) and demand (x, y, weight) in two CSVs",
    )
    mc.add_argument("--p", type=int, required=True)
    mc.add_argument("--radius", type=float, required=True)
    mc.add_argument(
        "--methods",
        default="planner,highs,spopt",
        help="planner (the large-scale engine), highs (the compact model), spopt",
    )
    mc.add_argument("--time-limit", type=float, default=300.0, help="seconds (safety net)")
    mc.add_argument("--gap", type=float, default=0.0, help="relative gap to stop at")
    mc.add_argument("--node-limit", type=int, default=None, help="branch-and-bound nodes")
    mc.add_argument(
        "--checkpoints", default="", help="seconds at which the planner's gap is printed"
    )
    pt = sub.add_parser(
        "points",
        help="random points: x, y, weight to stdout; with --sites, sites and demand "
        "uniform in a square to --out-sites and --out-demand",
    )
    pt.add_argument("--n", type=int, default=1000, help="points (demand points with --sites)")
    pt.add_argument("--seed", type=int, default=1)
    pt.add_argument("--sites", type=int, default=None, help="candidate sites")
    pt.add_argument("--square", type=float, default=30.0, help="side of the square")
    pt.add_argument("--weights", default="1-100", help="integer weights LO-HI")
    pt.add_argument("--out-sites", type=Path, default=None, help="CSV of x, y")
    pt.add_argument("--out-demand", type=Path, default=None, help="CSV of x, y, weight")
    mx = sub.add_parser("matrix", help="travel-time matrix vs networkx")
    mx.add_argument("--nodes", type=int, default=50_000)
    mx.add_argument("--origins", type=int, default=200)
    mx.add_argument("--destinations", type=int, default=2000)
    co = sub.add_parser("county", help="station models on a whole county, to a MIP gap")
    src = co.add_mutually_exclusive_group()
    src.add_argument("--config", type=Path, help="a county config")
    src.add_argument("--demo-scale", type=int, default=20, help="the demo county at this scale")
    co.add_argument("--methods", default=",".join(county.METHODS))
    co.add_argument("--gap", type=float, default=0.001, help="relative MIP gap to stop at")
    co.add_argument("--time-limit", type=float, default=60.0, help="seconds per model")
    co.add_argument("--set", dest="overrides", action="append", default=[], help="KEY=VALUE")
    bt = sub.add_parser("batch", help="planner batch: counties per minute per worker count")
    bt.add_argument("--counties", type=int, default=6)
    bt.add_argument("--scale", type=float, default=0.5)
    bt.add_argument("--workers", default="1,2", help="worker counts to compare")
    pv = sub.add_parser("province", help="one merged extract: split vs one read, batch speed")
    pv.add_argument("--counties", type=int, default=30)
    pv.add_argument("--scale", type=float, default=0.3)
    pv.add_argument("--workers", default="1,2", help="worker counts ('' : the ingest only)")
    pv.add_argument("--repeat", type=int, default=3, help="best of this many reads/splits")
    vr = sub.add_parser("vrptw", help="Solomon VRPTW files with PyVRP (the tours' engine)")
    vr.add_argument("files", nargs="+", type=Path)
    vr.add_argument("--time-limit", type=float, default=5.0, help="seconds per instance")
    vr.add_argument("--seed", type=int, default=1, help="PyVRP's random seed")
    vr.add_argument(
        "--best-known",
        type=Path,
        help="best-known distances (default: solomon_bks_distance.csv beside the files)",
    )
    pg = sub.add_parser("postgis", help="publish N points to PostGIS and read them back")
    pg.add_argument("--points", type=int, default=100_000)
    pg.add_argument("--url", default=None, help="default: PLANNER_TEST_PG_URL")
    to = sub.add_parser("tours", help="the repair vans' week on the demo county")
    to.add_argument("--scale", type=float, default=5.0, help="demo county scale")
    to.add_argument("--fleet", type=int, default=5, help="vans, shared by the repair points")
    to.add_argument("--min-evs", type=float, default=None, help="villages with this many EVs")
    to.add_argument("--villages", type=int, default=300, help="or: the N with the most EVs")
    to.add_argument("--iterations", type=int, nargs="*", default=None, help="default: 10000")
    to.add_argument("--time-limit", type=float, nargs="*", default=[], help="seconds")
    to.add_argument("--demo-tours", action="store_true", help="the demo config's own tours section")
    to.add_argument("--decompose-above", default="config", help="stops; none: never")
    to.add_argument("--set", dest="overrides", action="append", default=[], help="KEY=VALUE")
    st = sub.add_parser("stages", help="time and peak memory of each stage of planner site")
    st.add_argument("--config", type=Path, required=True, help="a county config")
    st.add_argument("--set", dest="overrides", action="append", default=[], help="KEY=VALUE")
    st.add_argument("--out", type=Path, default=None, help="output folder (default: temporary)")
    st.add_argument("--profile", type=Path, default=None, help="write a cProfile here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        _run(args)
    except PlannerError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


def _run(args: argparse.Namespace) -> None:
    if args.what == "pmed":
        methods = locate.available(args.methods.split(","))
        locate.run_pmed(sorted(args.files, key=_natural), methods, time_limit_s=args.time_limit)
    elif args.what == "mclp":
        methods = locate.available(args.methods.split(","))
        if (args.points is None) == (args.sites is None):
            raise DataError("mclp: give either a points CSV or --sites SITES.csv DEMAND.csv")
        locate.run_mclp(
            args.points,
            sites=None if args.sites is None else (args.sites[0], args.sites[1]),
            p=args.p,
            radius=args.radius,
            methods=methods,
            time_limit_s=args.time_limit,
            mip_gap=args.gap,
            node_limit=args.node_limit,
            checkpoints=tuple(float(t) for t in args.checkpoints.split(",") if t.strip()),
        )
    elif args.what == "points":
        _points(args)
    elif args.what == "batch":
        batch.run_batch_speed(
            counties=args.counties,
            scale=args.scale,
            workers=[int(w) for w in args.workers.split(",")],
        )
    elif args.what == "province":
        province.run_province(
            counties=args.counties,
            scale=args.scale,
            workers=[int(w) for w in args.workers.split(",") if w.strip()],
            repeat=args.repeat,
        )
    elif args.what == "county":
        county.run_county(
            config_path=args.config,
            demo_scale=None if args.config else args.demo_scale,
            methods=args.methods.split(","),
            gap=args.gap,
            time_limit_s=args.time_limit,
            overrides=args.overrides,
        )
    elif args.what == "vrptw":
        vrptw.run_vrptw(
            sorted(args.files, key=_natural),
            time_limit_s=args.time_limit,
            seed=args.seed,
            best_known=args.best_known,
        )
    elif args.what == "postgis":
        postgis.run_postgis(args.points, url=args.url)
    elif args.what == "tours":
        iterations = args.iterations
        if iterations is None:
            iterations = [] if args.demo_tours else [10_000]
        budgets = [("iterations", float(n)) for n in iterations]
        budgets += [("time_limit", t) for t in args.time_limit]
        above = args.decompose_above
        tours.run_tours(
            scale=args.scale,
            fleet=None if args.demo_tours else args.fleet,
            min_evs=None if args.demo_tours else args.min_evs,
            villages=None if args.demo_tours or args.min_evs is not None else args.villages,
            budgets=budgets,
            overrides=args.overrides,
            decompose_above=None if above == "none" else above if above == "config" else int(above),
        )
    elif args.what == "stages":
        stages.run_stages(
            args.config, overrides=args.overrides, out_dir=args.out, profile=args.profile
        )
    elif args.what == "cap":
        locate.run_cap(sorted(args.files, key=_natural), time_limit_s=args.time_limit)
    else:
        matrix.run_matrix(args.nodes, args.origins, args.destinations)


def _points(args: argparse.Namespace) -> None:
    if args.sites is None:
        instances.random_points(args.n, seed=args.seed).to_csv(sys.stdout, index=False)
        return
    if args.out_sites is None or args.out_demand is None:
        raise DataError("points: --sites writes two files: give --out-sites and --out-demand")
    try:
        lo, hi = (int(v) for v in args.weights.split("-"))
    except ValueError:
        raise DataError(f"points: --weights wants LO-HI integers, not {args.weights!r}") from None
    sites, demand = instances.uniform_sites_and_demand(
        args.sites, args.n, square=args.square, weights=(lo, hi), seed=args.seed
    )
    sites.to_csv(args.out_sites, index=False)
    demand.to_csv(args.out_demand, index=False)


def _natural(path: Path) -> tuple[str, int]:
    stem = path.stem.rstrip("0123456789")
    digits = path.stem[len(stem) :]
    return stem, int(digits) if digits else -1


if __name__ == "__main__":
    sys.exit(main())
