"""Matplotlib figures as PNG: the one place where the report's figures are rendered."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure_png(fig: Figure, *, dpi: float | str = "figure") -> bytes:
    """The figure as PNG bytes, drawn on matplotlib's Agg canvas.

    A figure made without pyplot (``matplotlib.figure.Figure``) gets an Agg canvas
    attached; one from pyplot keeps its own. Closing a pyplot figure is left to the
    caller.

    Parameters
    ----------
    fig
        The figure.
    dpi
        Resolution; ``"figure"`` (the default) uses the figure's own.

    Returns
    -------
    bytes
        The PNG file.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)  # attaches itself to the figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_png(fig: Figure, path: str | Path, *, dpi: float | str = "figure") -> None:
    """Write the figure as a PNG file (see :func:`figure_png`).

    Parameters
    ----------
    fig
        The figure.
    path
        The file to write.
    dpi
        Resolution; ``"figure"`` (the default) uses the figure's own.
    """
    Path(path).write_bytes(figure_png(fig, dpi=dpi))
