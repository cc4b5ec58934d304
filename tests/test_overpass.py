"""The Overpass path, against a local stand-in server on 127.0.0.1 (never the internet)."""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import osmium
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.config import load_config
from planner.ingest import load_county
from tests.conftest import PLAN_ONLY_SETS, sets, site_json


def overpass_json(pbf):
    """The file's nodes and ways as Overpass JSON: roads only, and everything."""
    nodes, ways = {}, []
    for obj in osmium.FileProcessor(str(pbf)):
        if obj.is_node():
            nodes[obj.id] = {
                "type": "node",
                "id": obj.id,
                "lat": obj.location.lat,
                "lon": obj.location.lon,
                "tags": dict(obj.tags),
            }
        elif obj.is_way():
            ways.append(
                {
                    "type": "way",
                    "id": obj.id,
                    "nodes": [n.ref for n in obj.nodes],
                    "tags": dict(obj.tags),
                }
            )
    roads = [w for w in ways if "highway" in w["tags"]]
    used = {n for w in roads for n in w["nodes"]}
    return (
        {"elements": [nodes[n] for n in sorted(used)] + roads},
        {"elements": list(nodes.values()) + ways},
    )


@pytest.fixture(scope="module")
def stand_in(small):
    """A stand-in Overpass server answering with the small demo county's OSM data."""
    roads, everything = overpass_json(small.parent / "qingxi.osm.pbf")
    queries = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            query = urllib.parse.parse_qs(body)["data"][0]
            queries.append(query)
            payload = roads if '"highway"' in query else everything
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api", queries
    server.shutdown()


@pytest.mark.slow
def test_overpass_matches_the_file(tmp_path, small, small_run, stand_in):
    url, queries = stand_in
    # the session's run of the small county from its .osm.pbf (no tours, as below)
    from_file = json.loads((small_run / "summary.json").read_text(encoding="utf-8"))
    online = [
        "inputs.osm.source=overpass",
        f"inputs.osm.overpass_url={url}",
        "inputs.osm.overpass_rate_limit=false",
        f"inputs.osm.cache_dir={tmp_path / 'cache'}",
    ]
    from_overpass = site_json(small, tmp_path / "overpass", *sets(*online), *PLAN_ONLY_SETS)
    assert queries, "the stand-in was never asked"
    for key in (
        "graph_nodes",
        "graph_edges",
        "candidates",
        "existing_chargers",
        "demand_points",
        "townships_with_station",
    ):
        assert from_overpass[key] == from_file[key], key
    assert from_overpass["demand_covered_share"] == pytest.approx(
        from_file["demand_covered_share"], abs=0.01
    )
    # a second run is answered from the cache: its ingest (what asks Overpass) asks nothing
    asked = len(queries)
    again = load_county(load_config(small, overrides=online))
    assert len(queries) == asked
    assert len(again.roads.way_nodes) > 0 and len(again.pois) > 0


@pytest.mark.slow
def test_overpass_unreachable_is_a_clear_error(tmp_path, small):
    r = CliRunner().invoke(
        main,
        [
            "site",
            "--config",
            str(small),
            "--out",
            str(tmp_path / "o"),
            "--set",
            "inputs.osm.source=overpass",
            "--set",
            "inputs.osm.overpass_url=http://127.0.0.1:9/api",  # discard port: refused
            "--set",
            "inputs.osm.overpass_rate_limit=false",
            "--set",
            f"inputs.osm.cache_dir={tmp_path / 'cache'}",
        ],
    )
    assert r.exit_code == 2
    assert "Overpass at http://127.0.0.1:9/api: request failed" in r.output
