"""Offices with only a mailbox: each application is one email to the office, in the office's
language, with a readable summary (text and HTML), the summary as a PDF, the answers as JSON and
the citizen's documents. The office's staff record what happens on the portal's office page, so
there is nothing to poll and no webhook.

Exactly once, as far as SMTP allows: every email carries a Message-ID made from the outbox key,
the same on every attempt. SMTP cannot say "you sent this already", so if the relay takes the
message and its answer is lost (a timeout after the final dot), the outbox tries again and the
office is sent the same email a second time. That is bounded: at most one more copy per lost
answer, every copy with the same Message-ID, which the office's mailbox files as one (the
sandbox's receiver does: it lists one message per Message-ID and counts the copies). Sending
nothing on a doubt instead would lose applications, which is worse than a duplicate the office
can recognise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from pydantic import Field

from backend_clients.documents import DocumentClient
from backend_clients.mail import Attachment, MailClient, message_id
from portal.contracts.base import Config, Connection, Contract, Environment, News, Outgoing, Sent
from portal.i18n import current_locale, text_direction
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n.locale import use_locale
from portal.i18n.paper import Paper

# What the citizen's timeline says, in each language the portal serves.
SENT = _l("Sent to the office by email.")
ANSWER_SENT = _l("The office has your answer: we sent it by email.")


class EmailConfig(Config):
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # the office's mailbox
    language: str = Field(pattern=r"^[a-z]{2,3}([-_][A-Za-z]{2,4})?$")  # the office reads it


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Write in `language` for a while, then in whatever was used before (the worker's task
    goes on to other messages)."""
    before = current_locale()
    use_locale(language)
    try:
        yield
    finally:
        use_locale(before)


def in_each_language(languages: tuple[str, ...], text: Any) -> dict[str, str]:
    """A portal note (a lazy text) in every language the portal serves: the timeline shows each
    reader theirs."""
    notes = {}
    for language in languages:
        with speaking(language):
            notes[language] = str(text)
    return notes


@dataclass(frozen=True)
class Written:
    """The email in the office's language."""

    subject: str
    text: str
    html: str
    pdf: bytes


def _lines(outgoing: Outgoing, files: list[str], link: str) -> list[tuple[str, str]]:
    """(label, value) rows above the answers, the same in the text, HTML and PDF."""
    applicant = outgoing.applicant
    return [
        (_("Service"), _(outgoing.service_title)),
        (_("Application reference"), outgoing.application_reference),
        (_("Applicant"), applicant.name),
        (_("Email address"), applicant.email or _("Not given")),
        (_("Phone number"), applicant.phone or _("Not given")),
        (_("Attached documents"), ", ".join(files) or _("None")),
        (_("Record what happens to it"), link),
    ]


def write(
    outgoing: Outgoing, language: str, files: list[str], link: str, fonts_dir: Path
) -> Written:
    with speaking(language):
        title = _(
            "Application %(reference)s: %(service)s",
            reference=outgoing.application_reference,
            service=_(outgoing.service_title),
        )
        intro = _(
            "A citizen has applied through the city's portal. The summary, the answers "
            "(JSON) and their documents are attached."
        )
        heading = _("Answers")
        lines = _lines(outgoing, files, link)
        answers = outgoing.summary(language)
        with speaking(language):  # summary() leaves its language set; ours is the same
            pdf = summary_pdf(title, intro, lines, heading, answers, language, fonts_dir)
    text = "\n".join(
        [
            title,
            "",
            intro,
            "",
            *(f"{label}: {value}" for label, value in lines),
            "",
            heading,
            *(f"- {question}: {answer}" for question, answer in answers),
            "",
        ]
    )
    direction = text_direction(language)
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in [*lines, *answers]
    )
    html = (
        f'<!doctype html><html lang="{escape(language)}" dir="{direction}"><head>'
        f'<meta charset="utf-8"><title>{escape(title)}</title></head><body>'
        f"<h1>{escape(title)}</h1><p>{escape(intro)}</p>"
        f'<table style="text-align:start">{rows}</table></body></html>'
    )
    return Written(subject=title, text=text, html=html, pdf=pdf)


def summary_pdf(
    title: str,
    intro: str,
    lines: list[tuple[str, str]],
    heading: str,
    answers: list[tuple[str, str]],
    language: str,
    fonts_dir: Path,
) -> bytes:
    """The summary on paper, in the office's language (right to left in Arabic)."""
    paper = Paper(title, language, fonts_dir, title_size=18)
    paper.line(intro, 10, gap=4)
    paper.pairs(lines, 11, gap=3)
    paper.line(heading, 14, "B", gap=3)
    paper.pairs(answers, 11, gap=3)
    return paper.output()


def answers_json(outgoing: Outgoing, files: dict[str, str]) -> bytes:
    """The answers as the portal keeps them, for offices that copy them into a system."""
    document = {
        "application_reference": outgoing.application_reference,
        "request_reference": outgoing.request_reference,
        "service": outgoing.service,
        "service_version": outgoing.service_version,
        "citizen_language": outgoing.language,
        "applicant": {
            "name": outgoing.applicant.name,
            "email": outgoing.applicant.email,
            "phone": outgoing.applicant.phone,
        },
        "answers": outgoing.answers,
        "documents": files,
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode()


class EmailConnection(Connection):
    can_poll = False  # the office's news comes from its staff page

    def __init__(
        self,
        department: str,
        config: EmailConfig,
        mail: MailClient,
        documents: DocumentClient,
        public_url: str,
        fonts_dir: Path,
        languages: tuple[str, ...],
    ) -> None:
        super().__init__(department)
        self.config = config
        self.mail = mail
        self.documents = documents
        self.public_url = public_url
        self.fonts_dir = fonts_dir
        self.languages = languages

    async def _attachments(self, stored_ids: list[str]) -> list[Attachment]:
        """The documents' bytes from the document service (BackendUnavailable: try again)."""
        found = []
        for stored_id in stored_ids:
            about = await self.documents.metadata(stored_id)
            content, content_type = await self.documents.download(stored_id)
            found.append(Attachment(about.filename, about.content_type or content_type, content))
        return found

    def _news(self, external_id: str, status: str, note: Any) -> News:
        notes = in_each_language(("en", *self.languages), note)
        return News(
            external_id=external_id[:120],
            status=status,
            at=datetime.now(UTC),
            note=notes["en"],
            data={"note_language": "en", "notes": notes},
        )

    async def send(self, outgoing: Outgoing) -> Sent:
        documents = await self._attachments(list(outgoing.documents.values()))
        files = {ours: documents[i].filename for i, ours in enumerate(outgoing.documents)}
        link = f"{self.public_url}/staff/office/{outgoing.request_reference}"
        written = write(outgoing, self.config.language, list(files.values()), link, self.fonts_dir)
        reference = outgoing.application_reference
        await self.mail.send(
            to=self.config.address,
            subject=written.subject,
            text=written.text,
            html=written.html,
            language=self.config.language,
            message_id=message_id(outgoing.key, self.mail.config.sender),
            attachments=[
                Attachment(f"{reference}.pdf", "application/pdf", written.pdf),
                Attachment(f"{reference}.json", "application/json", answers_json(outgoing, files)),
                *documents,
            ],
        )
        news = self._news(f"email:{outgoing.request_reference}:sent", "received", SENT)
        return Sent(case_id=reference, news=[news])

    async def send_information(
        self, case_id: str, text: str, documents: list[str], key: str
    ) -> list[News]:
        """The citizen's answer to the office's question, as a follow-up email (same bounds on
        repeats as `send`: one Message-ID per outbox key)."""
        attachments = await self._attachments(documents)
        with speaking(self.config.language):
            subject = _("More information for application %(reference)s", reference=case_id)
            intro = _("The citizen has answered your request for more information.")
            files = (
                _("Attached documents")
                + ": "
                + (", ".join(item.filename for item in attachments) or _("None"))
            )
        body = f"{subject}\n\n{intro}\n\n{text}\n\n{files}\n"
        html = (
            f'<!doctype html><html lang="{escape(self.config.language)}" '
            f'dir="{text_direction(self.config.language)}"><head><meta charset="utf-8">'
            f"<title>{escape(subject)}</title></head><body><h1>{escape(subject)}</h1>"
            f"<p>{escape(intro)}</p><blockquote><p>{escape(text)}</p></blockquote>"
            f"<p>{escape(files)}</p></body></html>"
        )
        await self.mail.send(
            to=self.config.address,
            subject=subject,
            text=body,
            html=html,
            language=self.config.language,
            message_id=message_id(key, self.mail.config.sender),
            attachments=attachments,
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return [self._news(f"email:{case_id}:information:{digest}", "received", ANSWER_SENT)]


def connect(department: str, config: EmailConfig, env: Environment) -> Connection:
    settings = env.settings
    return EmailConnection(
        department,
        config,
        env.mail,
        env.documents,
        settings.public_url,
        settings.fonts_dir,
        tuple(settings.languages),
    )


CONTRACT = Contract(
    name="email",
    config=EmailConfig,
    connect=connect,
    description="An office with only a mailbox: one email per application, news from staff",
)

__all__ = ["CONTRACT", "EmailConfig", "EmailConnection", "message_id"]
