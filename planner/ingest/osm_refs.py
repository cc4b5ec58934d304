"""The node ids of many ways, collected in C++ and parsed by numpy.

pyosmium hands a way's node ids to Python one ``NodeRef`` object at a time, a few
microseconds each: for the roads of a province that is the largest share of a read.
:class:`WayRefs` instead has osmium write the ways to a temporary OPL file (text, one
line per way, its nodes last as ``Nn1,n2,...``) and parses all the ids at once.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import TracebackType

import numpy as np
import osmium

#: One way per line, no metadata, node ids only.
_OPL = "opl,add_metadata=false,locations_on_ways=false"
#: A line's node list (tags are escaped in OPL: a space only separates fields).
_NODES = re.compile(rb" N(\S*)")
#: Bytes of the file parsed at a time (memory stays bounded for a province's roads).
_CHUNK = 16 << 20


class WayRefs:
    """Node ids of ways added one by one, all returned by :meth:`ids`.

    Parameters
    ----------
    folder
        A temporary folder for the OPL file.
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / "ways.opl"
        self.count = 0  # node ids expected
        self._writer: osmium.SimpleWriter | None = osmium.SimpleWriter(
            osmium.io.File(str(self.path), _OPL)
        )

    def add(self, way: osmium.osm.Way, nodes: int) -> None:
        """Note the way (with ``nodes`` nodes)."""
        assert self._writer is not None
        self._writer.add_way(way)
        self.count += nodes

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> WayRefs:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def ids(self) -> np.ndarray:
        """Every added way's node ids, one way after the other (int64).

        Raises
        ------
        RuntimeError
            The file does not hold as many ids as the ways had nodes.
        """
        self.close()
        parts = []
        with self.path.open("rb") as f:
            rest = b""
            while chunk := f.read(_CHUNK):
                # whole lines only: a chunk's last line continues in the next
                lines, _, tail = (rest + chunk).rpartition(b"\n")
                parts.append(_parse(lines))
                rest = tail
            parts.append(_parse(rest))
        ids = np.concatenate(parts)
        if len(ids) != self.count:
            msg = f"{self.path}: {len(ids)} node ids read back, {self.count} expected"
            raise RuntimeError(msg)
        return ids


def _parse(lines: bytes) -> np.ndarray:
    """The node ids of whole OPL lines, in order."""
    text = b",".join(_NODES.findall(lines)).replace(b"n", b"").decode("ascii")
    if not text:
        return np.zeros(0, dtype=np.int64)
    # numpy's text parser: ten times as fast as int() on each id
    return np.fromstring(text, dtype=np.int64, sep=",")
