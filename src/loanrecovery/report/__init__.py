"""The self-contained HTML report (``report.html``) and the output files of a run, rendered
from results objects.

The renderer lives in :mod:`loanrecovery.report.render` and the writer in
:mod:`loanrecovery.report.files`; this package's top level only holds the leaf pieces that the
stages' own section modules use, so that importing a stage never imports the whole report.
"""

from loanrecovery.report.section import Section, figure_to_data_uri

__all__ = ["Section", "figure_to_data_uri"]
