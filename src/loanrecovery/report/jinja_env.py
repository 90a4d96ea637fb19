"""The one way the report's stages load their Jinja2 templates.

Every stage that renders part of ``report.html`` keeps its templates in a ``templates/``
folder of its own package and loads them through :func:`template_environment`, so all
of them escape HTML and trim whitespace the same way.
"""

from __future__ import annotations

from functools import cache

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

__all__ = ["template_environment"]


@cache
def template_environment(package: str) -> Environment:
    """The Jinja2 environment for the ``templates/`` folder of ``package``.

    Parameters
    ----------
    package : str
        Dotted name of the package holding a ``templates/`` folder, for example
        ``"loanrecovery.report"``.

    Returns
    -------
    jinja2.Environment
        Autoescaping ``.html`` and ``.j2`` templates, with ``trim_blocks`` and
        ``lstrip_blocks`` on. One environment per package, shared by every caller. The
        report's shared macros (``_table.html.j2``: tables and captioned charts) are found
        from every package.
    """
    own = PackageLoader(package, "templates")
    shared = PackageLoader("loanrecovery.report", "templates")
    return Environment(
        loader=own if package == "loanrecovery.report" else ChoiceLoader([own, shared]),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
