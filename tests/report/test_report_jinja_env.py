"""The one Jinja2 environment factory used by the report and the recovery section."""

from __future__ import annotations

from jinja2 import PackageLoader

from loanrecovery.report.jinja_env import template_environment


def test_one_environment_per_package_with_the_package_templates() -> None:
    env = template_environment("loanrecovery.report")
    assert template_environment("loanrecovery.report") is env
    assert template_environment("loanrecovery.recovery") is not env
    assert isinstance(env.loader, PackageLoader)
    assert "report.html.j2" in env.list_templates()
    assert (
        "recovery_section.html.j2" in template_environment("loanrecovery.recovery").list_templates()
    )


def test_templates_are_escaped_and_trimmed() -> None:
    env = template_environment("loanrecovery.report")
    assert env.autoescape("page.html.j2") is True
    assert env.autoescape("page.txt") is False
    source = "{% for x in items %}\n  {% if x %}\n<b>{{ x }}</b>\n  {% endif %}\n{% endfor %}\n"
    # Block tags leave no blank lines or indentation behind; values are escaped.
    assert env.from_string(source).render(items=["<x>", ""]) == "<b>&lt;x&gt;</b>\n"
