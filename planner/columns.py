"""Column names used across the pipeline, each with a description and unit.

:data:`DICTIONARY` feeds the exported data dictionary; every column written to an
output file must appear in it (a test checks this). :data:`SHAPEFILE_NAMES` gives the
10-character Shapefile field names of the longer columns.
"""

from __future__ import annotations

TOWNSHIP_ID = "township_id"
TOWNSHIP_NAME = "township_name"
NAME = "name"
NAME_PINYIN = "name_pinyin"
DEMAND_ID = "demand_id"
POPULATION = "population"
EVS = "evs"
SESSIONS_DAY = "sessions_day"
KWH_DAY = "kwh_day"
CANDIDATE_ID = "candidate_id"
POLICY_CLASS = "policy_class"
OSM_ID = "osm_id"
SOURCE = "source"
GRID_DISTANCE_M = "grid_distance_m"
CONNECTION_COST = "connection_cost"
CONNECTION_BASIS = "connection_basis"
SUBSTATION_ID = "substation_id"
HEADROOM_KW = "headroom_kw"
STATION_CAPEX = "station_capex"
CHARGERS = "chargers"
CHARGER_KW = "charger_kw"
SESSIONS_SERVED = "sessions_served"
CAPEX = "capex"
STATION_ID = "station_id"
MINUTES = "minutes"
COVERED_SHARE = "covered_share"
NEAREST_STATION_MIN = "nearest_station_min"
REPAIR_ID = "repair_id"
TARGETS_COVERED = "targets_covered"
LON = "lon"
LAT = "lat"
PLACE = "place"
VOLTAGE_KV = "voltage_kv"
RATED_KVA = "rated_kva"
PEAK_LOAD_KW = "peak_load_kw"
STATIONS_FED = "stations_fed"
PLANNED_KW = "planned_kw"
HEADROOM_LEFT_KW = "headroom_left_kw"
HEADROOM_STATE = "headroom_state"
SOCKETS = "sockets"
STATIONS = "stations"
OPERATOR = "operator"
EXISTING_CHARGERS = "existing_chargers"
AT_STATION = "at_station"
EXISTING_SITES = "existing_sites"
OPENED_YEAR = "opened_year"
MEAN_STATION_MIN = "mean_station_min"
WORST_STATION_MIN = "worst_station_min"
POINTS_UNREACHED = "points_unreached"
EASTING = "easting"
NORTHING = "northing"
WKT = "wkt"
SERVICE_MIN = "service_min"
AREA_KM2 = "area_km2"
VAN = "van"
DAY = "day"
ORDER = "order"
STOP_ID = "stop_id"
KIND = "kind"
VISIT = "visit"
PER_WEEK = "per_week"
ARRIVAL = "arrival"
START = "start"
DEPARTURE = "departure"
WAIT_MIN = "wait_min"
KM_FROM_PREVIOUS = "km_from_previous"
KM = "km"
DRIVE_H = "drive_h"
STOPS = "stops"
END = "back"  # not "end": KML readers take end/begin fields for a TimeSpan
LUNCH = "lunch"
SEQUENCE = "sequence"

DICTIONARY: dict[str, tuple[str, str]] = {
    TOWNSHIP_ID: ("Township code (9 digits in China)", "-"),
    TOWNSHIP_NAME: ("Township name", "-"),
    NAME: ("Name from the source data (may be empty)", "-"),
    NAME_PINYIN: ("Name in pinyin", "-"),
    DEMAND_ID: (
        "Demand point id (a square of demand.resolution_m, or a cell, of the population "
        "raster; or a settlement)",
        "-",
    ),
    POPULATION: ("Resident population represented by the point", "people"),
    EVS: ("Electric vehicles owned by that population", "vehicles"),
    SESSIONS_DAY: ("Public charging sessions the point generates", "sessions/day"),
    KWH_DAY: ("Energy of those sessions", "kWh/day"),
    CANDIDATE_ID: ("Candidate site id", "-"),
    POLICY_CLASS: ("Policy class of the site (commercial_outlet, township_government, ...)", "-"),
    OSM_ID: (
        "Where the feature comes from: an OpenStreetMap element (n123 / w456), or a table "
        "and its row as a spreadsheet numbers it, the header being row 1 (chargers.csv#2)",
        "-",
    ),
    SOURCE: ("Where the site comes from (osm tag or table)", "-"),
    GRID_DISTANCE_M: ("Straight-line distance to the nearest 10 kV line or substation", "m"),
    CONNECTION_COST: (
        "Cost of the 10 kV connection (distance x cost per km); empty: not included, the "
        "inputs hold no grid data",
        "CNY",
    ),
    CONNECTION_BASIS: (
        "How connection_cost was found: 'grid distance', 'default' (costs.connection_default, "
        "no grid data), 'not included' (no grid data, no default) or 'existing site'",
        "-",
    ),
    SUBSTATION_ID: (
        "Substation that would feed the site: that of the 10 kV line (or tap) its "
        "connection is priced to",
        "-",
    ),
    HEADROOM_KW: ("Available headroom of that substation", "kW"),
    STATION_CAPEX: ("Fixed cost of a station at the site, connection included", "CNY"),
    CHARGERS: ("Number of chargers at the station", "chargers"),
    CHARGER_KW: ("Installed charging power at the station", "kW"),
    SESSIONS_SERVED: ("Charging sessions assigned to the station", "sessions/day"),
    CAPEX: ("Total capital cost of the site (station, chargers, connection)", "CNY"),
    STATION_ID: (
        "Station id: a new station's candidate id, or e000... for an existing charger; "
        "in the demand and the assignments, the station that serves the point (the "
        "stations and existing chargers layers carry the same ids)",
        "-",
    ),
    MINUTES: ("Drive time to that station", "min"),
    COVERED_SHARE: ("Share of the point's sessions served within the cutoff", "0-1"),
    NEAREST_STATION_MIN: ("Drive time to the nearest chosen station (empty: none in reach)", "min"),
    REPAIR_ID: ("Repair point id (r000...; its site is candidate_id)", "-"),
    TARGETS_COVERED: ("Villages and stations within the repair response time", "count"),
    LON: ("Longitude, WGS84", "degree"),
    LAT: ("Latitude, WGS84", "degree"),
    PLACE: ("OSM place type (town, village, hamlet ...)", "-"),
    VOLTAGE_KV: ("Highest voltage of the asset", "kV"),
    RATED_KVA: ("Rated transformer capacity", "kVA"),
    PEAK_LOAD_KW: ("Measured peak load", "kW"),
    STATIONS_FED: (
        "Planned stations whose load is booked on the substation (new, or given more chargers)",
        "count",
    ),
    PLANNED_KW: ("Rated power of those stations' planned chargers, drawn all at once", "kW"),
    HEADROOM_LEFT_KW: ("Headroom left after the plan (empty: headroom unknown)", "kW"),
    HEADROOM_STATE: (
        "Whether the plan keeps within the substation's headroom: within, over, or unknown "
        "(no row in the headroom table: not limited)",
        "-",
    ),
    SOCKETS: (
        "Charging sockets (OSM capacity / socket tags, or the operator table's count)",
        "count",
    ),
    STATIONS: ("Chosen charging stations in the township", "count"),
    OPERATOR: ("Operator of an existing charging station", "-"),
    EXISTING_CHARGERS: ("Charging points already in place at the site (0: a new site)", "count"),
    AT_STATION: ("The repair point shares its site with a charging station", "true/false"),
    EXISTING_SITES: ("Existing public charging sites in the township", "count"),
    OPENED_YEAR: (
        "Rollout year in which this plan opened the station (empty: an operator's charger)",
        "year",
    ),
    MEAN_STATION_MIN: (
        "Session-weighted mean drive time from the township's demand points to the stations "
        "they are assigned to (nearest open one; the next where it is full), sessions served",
        "min",
    ),
    WORST_STATION_MIN: (
        "Longest drive time from a populated demand point (village) of the township to a "
        "station it is assigned to; points out of reach are counted apart",
        "min",
    ),
    POINTS_UNREACHED: (
        "Populated demand points of the township with no chosen station within the cutoff",
        "count",
    ),
    EASTING: (
        "Easting in the export CRS, with the zone number or false easting the CRS defines "
        "(Y in Chinese surveying; CSV of a projected CRS)",
        "m",
    ),
    NORTHING: (
        "Northing in the export CRS (X in Chinese surveying; CSV of a projected CRS)",
        "m",
    ),
    WKT: ("Geometry as WKT in the export CRS (CSV of polygon layers)", "-"),
    SERVICE_MIN: ("Drive time the service area is drawn for (the repair response time)", "min"),
    AREA_KM2: ("Area of the polygon", "km2"),
    VAN: ("Repair van: its repair point and number", "-"),
    DAY: ("Working day (mon ... sun)", "-"),
    ORDER: ("Position of the stop in the van's tour of the day", "-"),
    STOP_ID: ("Stop: a demand point (village) or a station's candidate id", "-"),
    KIND: ("Kind of stop: villages or stations", "-"),
    VISIT: ("Which of the stop's weekly visits this is", "-"),
    PER_WEEK: ("Visits per week asked for the stop", "visits/week"),
    ARRIVAL: ("Arrival at the stop", "HH:MM"),
    START: ("Start of the service at the stop, or the time the van leaves its base", "HH:MM"),
    DEPARTURE: ("Departure from the stop", "HH:MM"),
    WAIT_MIN: ("Wait before the service starts (time window or lunch)", "min"),
    KM_FROM_PREVIOUS: ("Road distance from the previous stop or the base", "km"),
    KM: ("Road distance of the tour", "km"),
    DRIVE_H: ("Driving time of the tour", "h"),
    STOPS: ("Stops in the tour", "count"),
    END: ("Time the van is back at its base", "HH:MM"),
    LUNCH: ("Start of the lunch break (empty: none)", "HH:MM"),
    SEQUENCE: ("Stop ids in the order visited", "-"),
}

#: Short label of each column, in English (the source language of the catalogs): table
#: headers, GIS field aliases and map popups, translated with :meth:`planner.i18n.Lang.label`.
LABELS: dict[str, str] = {
    TOWNSHIP_ID: "Township code",
    TOWNSHIP_NAME: "Township",
    NAME: "Name",
    NAME_PINYIN: "Name (pinyin)",
    DEMAND_ID: "Demand point",
    POPULATION: "Population",
    EVS: "EVs",
    SESSIONS_DAY: "Sessions per day",
    KWH_DAY: "Energy per day",
    CANDIDATE_ID: "Site id",
    POLICY_CLASS: "Site class",
    OSM_ID: "OSM element",
    SOURCE: "Data source",
    GRID_DISTANCE_M: "Distance to grid",
    CONNECTION_COST: "of which grid connection",
    CONNECTION_BASIS: "Connection cost basis",
    SUBSTATION_ID: "Substation",
    HEADROOM_KW: "Substation headroom",
    STATION_CAPEX: "Site cost incl. grid connection",
    CHARGERS: "Chargers",
    CHARGER_KW: "Charging power",
    SESSIONS_SERVED: "Sessions served per day",
    CAPEX: "Capital cost",
    STATION_ID: "Serving station",
    MINUTES: "Drive time",
    COVERED_SHARE: "Share served",
    NEAREST_STATION_MIN: "Drive time to nearest station",
    REPAIR_ID: "Repair point id",
    TARGETS_COVERED: "Targets in reach",
    LON: "Longitude",
    LAT: "Latitude",
    PLACE: "Place type",
    VOLTAGE_KV: "Voltage",
    RATED_KVA: "Rated capacity",
    PEAK_LOAD_KW: "Peak load",
    STATIONS_FED: "Stations fed",
    PLANNED_KW: "Planned charging power",
    HEADROOM_LEFT_KW: "Headroom left",
    HEADROOM_STATE: "Headroom",
    SOCKETS: "Sockets",
    STATIONS: "Stations",
    OPERATOR: "Operator",
    EXISTING_CHARGERS: "Existing chargers",
    AT_STATION: "At a charging station",
    EXISTING_SITES: "Existing charging sites",
    OPENED_YEAR: "Opened in year",
    MEAN_STATION_MIN: "Mean drive time to station",
    WORST_STATION_MIN: "Longest drive time to station (points in reach)",
    POINTS_UNREACHED: "Points out of reach",
    EASTING: "Easting (Y)",
    NORTHING: "Northing (X)",
    WKT: "Geometry (WKT)",
    SERVICE_MIN: "Service drive time",
    AREA_KM2: "Area",
    VAN: "Van",
    DAY: "Day",
    ORDER: "Order",
    STOP_ID: "Stop",
    KIND: "Kind of stop",
    VISIT: "Visit",
    PER_WEEK: "Visits per week",
    ARRIVAL: "Arrival",
    START: "Start",
    DEPARTURE: "Departure",
    WAIT_MIN: "Wait",
    KM_FROM_PREVIOUS: "Distance from previous stop",
    KM: "Distance",
    DRIVE_H: "Driving time",
    STOPS: "Stops",
    END: "Back at base",
    LUNCH: "Lunch break",
    SEQUENCE: "Stop order",
}

#: Shapefile (DBF) field names for columns longer than 10 characters. Other long
#: columns are cut to 10 characters (made unique with a number); the data dictionary
#: records the names used.
SHAPEFILE_NAMES: dict[str, str] = {
    TOWNSHIP_ID: "twp_id",
    TOWNSHIP_NAME: "twp_name",
    NAME_PINYIN: "name_py",
    SESSIONS_DAY: "sess_day",
    CANDIDATE_ID: "cand_id",
    POLICY_CLASS: "pol_class",
    GRID_DISTANCE_M: "grid_dist",
    CONNECTION_COST: "conn_cost",
    CONNECTION_BASIS: "conn_basis",
    SUBSTATION_ID: "subst_id",
    HEADROOM_KW: "headrm_kw",
    STATION_CAPEX: "st_capex",
    SESSIONS_SERVED: "sess_serv",
    COVERED_SHARE: "cov_share",
    NEAREST_STATION_MIN: "near_st_mn",
    TARGETS_COVERED: "targets",
    PEAK_LOAD_KW: "peak_kw",
    STATIONS_FED: "stns_fed",
    HEADROOM_LEFT_KW: "left_kw",
    HEADROOM_STATE: "hr_state",
    MEAN_STATION_MIN: "mean_st_mn",
    WORST_STATION_MIN: "wrst_st_mn",
    POINTS_UNREACHED: "unreached",
    EXISTING_CHARGERS: "exist_chg",
    EXISTING_SITES: "exist_site",
    OPENED_YEAR: "open_year",
    SERVICE_MIN: "serv_min",
    KM_FROM_PREVIOUS: "km_prev",
}
