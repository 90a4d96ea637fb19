"""A report section: a title and an HTML fragment rendered from a results object.

Each stage that contributes to ``report.html`` (the snapshot pipeline, early warning,
recovery strategies) renders its own fragment with its own Jinja2 template from its own
results object; :func:`loanrecovery.report.render_report` lays the sections out in one
self-contained page.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["Section", "figure_to_data_uri"]


@dataclass(frozen=True)
class Section:
    """One titled part of the HTML report.

    Parameters
    ----------
    title : str
        Heading shown in the report and its table of contents.
    html : str
        The section body, already rendered (escaped) HTML.
    anchor : str
        Fragment identifier for the table of contents.
    """

    title: str
    html: str
    anchor: str


def figure_to_data_uri(fig: Figure, *, dpi: int = 110) -> str:
    """Render a matplotlib figure as an embeddable ``data:image/png;base64,...`` URI.

    The figure is drawn by the Agg canvas directly: no pyplot, no global backend, no figure
    left open, so rendering is safe from any thread.
    """
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/png;base64,{encoded}"
