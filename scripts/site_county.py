"""Run the siting job for one county: a thin wrapper over ``planner site``.

Usage: python scripts/site_county.py --config counties/<name>.yaml [--out DIR] [--set k=v]
"""

import sys

from planner.cli import main

if __name__ == "__main__":
    sys.exit(main(["site", *sys.argv[1:]]))
