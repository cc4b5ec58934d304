"""Benchmarks of the planner against published instances and baselines.

Not part of the installed package: run them from the repository root with
``python scripts/benchmark.py`` (see ``docs/benchmarks.md``). Modules, by job:

- :mod:`benchmarks.instances`: readers of OR-Library files and point sets;
- :mod:`benchmarks.locate`: p-median, capacitated location and maximal covering runs, and
  the ratios against the baselines;
- :mod:`benchmarks.matrix`: travel-time matrix against networkx;
- :mod:`benchmarks.county`: the station models on a whole county, to a MIP gap;
- :mod:`benchmarks.batch`: counties per minute of ``planner batch``;
- :mod:`benchmarks.vrptw`: PyVRP (the engine of the repair tours) on Solomon's VRPTW.
"""
