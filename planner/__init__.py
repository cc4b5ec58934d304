"""Rural EV charging-station and repair-point siting planner.

The pipeline runs ``ingest -> demand / candidates -> network -> optimize -> report``;
:func:`planner.pipeline.run_county` runs it for one county from a validated config.
"""

__version__ = "0.1.0"
