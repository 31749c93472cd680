"""The portal's Jinja template class imports as Jinja's own does."""

from __future__ import annotations

from jinja2 import DictLoader, Environment, Template

from portal.web.templating import QuickImports

TEMPLATES = {
    "macros.html": "{% macro hello() %}{{ greeting }}, {{ name }}{{ mark }}{% endmacro %}",
    "page.html": '{% from "macros.html" import hello %}{{ hello() }}',
    "own.html": '{% from "macros.html" import hello %}{{ hello() }}',
}


def _rendered(template_class: type[Template]) -> list[str]:
    env = Environment(loader=DictLoader(TEMPLATES))
    env.template_class = template_class
    env.globals["greeting"] = "Hello"
    pages = [env.get_template("page.html").render(name="Lee")]
    env.globals["name"] = "Sam"  # added after the macros' template was first imported
    env.globals["greeting"] = "Hi"
    pages.append(env.get_template("page.html").render())
    pages.append(env.get_template("own.html", globals={"mark": "!"}).render())
    return pages


def test_imported_macros_see_the_globals_jinja_would_give_them() -> None:
    # Jinja's own: a render's variables do not reach an imported macro, its module is kept
    # once made, and it is made afresh for an importer with a global the macros lack.
    assert _rendered(Template) == ["Hello, ", "Hello, ", "Hi, Sam!"]
    assert _rendered(QuickImports) == _rendered(Template)
