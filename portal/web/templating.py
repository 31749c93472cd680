"""The Jinja environment: our templates, the GOV.UK Frontend macros, gettext and Babel filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    Template,
    select_autoescape,
)
from jinja2.bccache import Bucket
from litestar.plugins.jinja import JinjaTemplateEngine

from portal.i18n import catalogue
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n.bidi import isolate
from portal.i18n.formatting import FILTERS
from portal.i18n.locale import current_locale, languages, native_name, text_direction
from portal.web.urls import language_url

if TYPE_CHECKING:
    from portal.settings import Settings
    from portal.web.static import StaticFiles


def language_links(current_path: str) -> list[dict[str, Any]]:
    """Items for the language switcher, each language named in itself."""
    here = current_locale()
    return [
        {
            "text": native_name(language),
            "lang": language,
            "dir": text_direction(language),
            "href": None if language == here else language_url(language, current_path),
            "current": language == here,
        }
        for language in languages()
    ]


CHANNEL_NAMES = {
    "sms": _l("SMS"),
    "whatsapp": _l("WhatsApp"),
    "web": _l("Web chat"),
    "email": _l("Email"),
}


def channel_name(code: str) -> str:
    """How a citizen reached us (or we them), in the reader's language."""
    return str(CHANNEL_NAMES.get(code, code))


def sent_through(code: str, agent: str | None = None) -> str:
    """Where an application was sent from: "web" is the website, whether its form or the
    web chat on it (a conversation's "web" is the web chat alone). One a call-centre agent
    filled in for the citizen (`agent`, their name) came through the call centre, though the
    agent used the website's forms."""
    if agent:
        return _("Call centre: %(name)s", name=agent)
    return str(_l("Website")) if code == "web" else channel_name(code)


class CompiledOnce(BytecodeCache):
    """Each template compiled once per process, whichever app renders it: the tests start an
    app per test, and compiling the templates again in each was a tenth of their time. Jinja
    keys a template by its name and file and checks its source's checksum, so a changed
    template is compiled again; every environment here is built alike (build_environment)."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED = CompiledOnce()


class QuickImports(Template):
    """Jinja's template with a cheaper import. Every `{% from ... import %}` (and each call of
    a GOV.UK Frontend macro, which imports its template inside the macro) works out which of
    the importer's globals the imported template lacks: a set difference against the keys of a
    ChainMap, one key at a time in Python, about 5% of a form page's CPU under load. Here the
    imported template's global names are taken as a set once, and compared in one step; when
    that finds any missing (a global added since), Jinja's own check decides, as before."""

    _names: frozenset[str] | None = None

    def _get_default_module(self, ctx: Any = None) -> Any:
        if ctx is not None:
            if self._names is None:
                self._names = frozenset(self.globals)
            if ctx.globals_keys - self._names:
                return super()._get_default_module(ctx)
        return super()._get_default_module()


def build_environment(settings: Settings, static: StaticFiles) -> Environment:
    """One environment for the whole app; the same `trimmed` policy as extraction (babel.cfg)."""
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(settings.templates_dir),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        auto_reload=settings.env == "development",
        bytecode_cache=COMPILED,
    )
    env.template_class = QuickImports
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=catalogue.gettext,
        ngettext=catalogue.ngettext,
        pgettext=catalogue.pgettext,
        npgettext=catalogue.npgettext,
        newstyle=True,
    )
    env.filters.update(FILTERS)
    env.filters["isolate"] = isolate
    env.globals.update(
        static_url=static.url,
        current_locale=current_locale,
        text_direction=text_direction,
        native_name=native_name,
        channel_name=channel_name,
        sent_through=sent_through,
        language_links=language_links,
        previewing=catalogue.previewing,
    )
    return env


def template_engine(env: Environment) -> JinjaTemplateEngine:
    """Litestar's Jinja engine over our environment."""
    return JinjaTemplateEngine.from_environment(env)
