"""The self-contained HTML report (``report.html``), rendered from results objects."""

from loanrecovery.report.render import render_report, snapshot_sections
from loanrecovery.report.section import Section, figure_to_data_uri

__all__ = ["Section", "figure_to_data_uri", "render_report", "snapshot_sections"]
