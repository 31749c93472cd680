"""What a service definition may say, checked by Pydantic when the portal starts.

Every human text in a definition (titles, labels, hints, options, errors) is an English message
id: templates show it through gettext, `make extract` puts it in the catalogue for translators.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from portal.contracts.registry import config_problems

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")]
FieldId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
# Journey addresses a step could clash with (/drafts/<id>/<step>).
RESERVED_STEP_IDS = frozenset({"check", "submit", "delete", "check-field", "stop"})
# Where a stop page may send the citizen instead: a page of the portal or another site (https);
# never //host, which would leave the portal without saying https.
HREF = re.compile(r"/([A-Za-z0-9._~-][A-Za-z0-9._~/?=&%#-]*)?|https://[^\s<>\"'\\]+")
MAX_FILES = 20
MONEY = re.compile(r"[0-9]{1,7}\.[0-9]{2}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(Strict):
    """Holds when the answer to `field` equals a value, is one of several, or is above a number."""

    field: FieldId
    equals: str | None = None
    one_of: tuple[str, ...] | None = Field(default=None, alias="in")
    greater_than: float | None = None

    @model_validator(mode="after")
    def one_test(self) -> Condition:
        given = [self.equals is not None, self.one_of is not None, self.greater_than is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of equals, in, greater_than")
        return self


class Option(Strict):
    # Lowercase when written by hand (FieldDef checks it); DIGIT's codes keep their case.
    value: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    label: Text
    hint: Text | None = None


class FieldErrors(Strict):
    """Service-specific wording for the usual errors (GOV.UK: say what to do, name the thing)."""

    required: Text | None = None
    invalid: Text | None = None
    # Dates with `earliest`/`latest`: the wording when the date is out of range, with %(date)s.
    too_early: Text | None = None
    too_late: Text | None = None

    @model_validator(mode="after")
    def date_placeholder(self) -> FieldErrors:
        for key in ("too_early", "too_late"):
            text = getattr(self, key)
            if text is not None and "%(date)s" not in text:
                raise ValueError(f"errors.{key} must say where the date goes with %(date)s")
        return self


class FieldDef(Strict):
    id: FieldId
    type: Literal[
        "text",
        "textarea",
        "email",
        "phone",
        "number",
        "money",
        "date",
        "radios",
        "checkboxes",
        "select",
        "yes_no",
        "address",
        "file",
    ]
    label: Text
    hint: Text | None = None
    required: bool = True
    errors: FieldErrors = FieldErrors()
    options: tuple[Option, ...] = ()
    # Options kept in step with DIGIT's master data: a designer refreshes them into a new draft
    # (portal/design/master_data.py); citizens' pages read only the options written here.
    options_from: Literal["mdms-complaint-types", "mdms-localities"] | None = None
    max_length: int | None = Field(default=None, ge=1, le=10_000)
    minimum: float | None = None
    maximum: float | None = None
    past_only: bool = False
    # Dates: the first and last day allowed, in days from the city's today (negative: past).
    earliest: int | None = Field(default=None, ge=-36_500, le=36_500)
    latest: int | None = Field(default=None, ge=-36_500, le=36_500)
    # Documents: how many files the citizen may give (above 1: one at a time, with a list).
    max_files: int = Field(default=1, ge=1, le=MAX_FILES)
    autocomplete: str | None = None
    width: Literal[2, 3, 4, 5, 10, 20, 30] | None = None
    # Tell us once: the citizen's saved detail that answers this question, with consent.
    prefill: Literal["name", "email", "phone", "address"] | None = None
    # Documents: the content types accepted (sniffed from the bytes, not trusted from the name).
    accept: tuple[Literal["application/pdf", "image/png", "image/jpeg"], ...] = (
        "application/pdf",
        "image/png",
        "image/jpeg",
    )

    @model_validator(mode="after")
    def options_where_needed(self) -> FieldDef:
        choice = self.type in ("radios", "checkboxes", "select")
        if choice and len(self.options) < 2:
            raise ValueError(f"a {self.type} field needs at least two options")
        if not choice and self.options:
            raise ValueError(f"a {self.type} field takes no options")
        if self.options_from and self.type not in ("radios", "select"):
            raise ValueError("options_from is for radios and select fields only; remove it")
        for option in self.options:
            if not self.options_from and option.value != option.value.lower():
                raise ValueError(
                    f"'{option.value}' is not a valid value: use lowercase letters, digits and "
                    "hyphens (only options_from keeps DIGIT's codes as they are)"
                )
        return self

    @model_validator(mode="after")
    def rules_fit_the_type(self) -> FieldDef:
        ranged = self.earliest is not None or self.latest is not None
        if ranged and self.type != "date":
            raise ValueError("earliest and latest are for date fields only; remove them")
        if ranged and self.past_only:
            raise ValueError("use either past_only or earliest/latest, not both")
        if self.earliest is not None and self.latest is not None and self.earliest > self.latest:
            raise ValueError(
                f"earliest ({self.earliest}) is after latest ({self.latest}): "
                "earliest must be the same number of days or fewer"
            )
        if self.max_files != 1 and self.type != "file":
            raise ValueError("max_files is for file fields only; remove it")
        return self

    @property
    def many_files(self) -> bool:
        """A document field that takes several files, one at a time."""
        return self.type == "file" and self.max_files > 1


class Repeat(Strict):
    """A repeatable group (GOV.UK 'add another'): each item answers `fields`."""

    item_label: Text  # "Partner": shown as "Partner 1", "Partner 2"
    add_another: Text  # "Do you need to add another partner?"
    max_items: int = Field(default=10, ge=1, le=50)


class Stop(Strict):
    """GOV.UK 'check before you start': when `when` holds, the journey ends here with a message
    and where to go instead."""

    when: Condition
    title: Text
    body: Text
    link_label: Text | None = None
    link_href: str | None = Field(default=None, max_length=500)

    @field_validator("link_href")
    @classmethod
    def portal_path_or_https(cls, href: str | None) -> str | None:
        if href is not None and not HREF.fullmatch(href):
            raise ValueError(
                f"{href!r} is not a link we can offer: give a page of the portal starting with "
                "/ (like /services/visitor-parking) or a full address starting with https://"
            )
        return href

    @model_validator(mode="after")
    def link_whole(self) -> Stop:
        if (self.link_label is None) != (self.link_href is None):
            raise ValueError("give both link_label and link_href, or neither")
        return self


class Step(Strict):
    """One page of the journey: one question (the label is the heading) or a few together."""

    id: Slug
    title: Text | None = None
    hint: Text | None = None
    fields: tuple[FieldDef, ...] = Field(min_length=1, max_length=8)
    when: Condition | None = None
    repeat: Repeat | None = None
    stop: Stop | None = None  # an eligibility question that can end the journey

    @model_validator(mode="after")
    def heading(self) -> Step:
        if (len(self.fields) > 1 or self.repeat) and not self.title:
            raise ValueError("a step with several fields or a repeat needs a title")
        if self.repeat and any(field.type in ("file", "address") for field in self.fields):
            raise ValueError("a repeated group holds simple fields only (no file or address)")
        if self.repeat and self.stop:
            raise ValueError("a repeated group cannot stop the journey; give the stop its own step")
        if any(field.many_files for field in self.fields) and len(self.fields) > 1:
            raise ValueError(
                "a file field with max_files above 1 must be the only field of its step; "
                "move the other fields to a step of their own"
            )
        return self

    @property
    def heading_text(self) -> str:
        return self.title or self.fields[0].label


class Delivery(Strict):
    """Which department receives the application, when, and which answers it gets."""

    department: Slug
    when: Condition | None = None
    answers: tuple[FieldId, ...] = ()  # empty: all of them
    # Which answers fill what the department's contract asks for (Open311's service code, place,
    # description...); its keys are the contract's, checked against the department's contract.
    request: dict[str, FieldId] | None = None

    @model_validator(mode="before")
    @classmethod
    def _open311_block(cls, data: object) -> object:
        """Definitions written before contracts had their own blocks said `open311:`."""
        if isinstance(data, dict) and "open311" in data and "request" not in data:
            data = {**data, "request": data["open311"]}
            del data["open311"]
        return data


class FeeRule(Strict):
    """A fee that depends on the answers: the first rule whose `when` holds sets the amount."""

    when: Condition
    amount: str

    @field_validator("amount", mode="before")
    @classmethod
    def two_places(cls, amount: object) -> str:
        return money_text(amount)


class Fee(Strict):
    """Paid as the last step, before the application is sent (never twice)."""

    description: Text  # shown on the payment and the receipt
    amount: str  # "50.00", in the city's currency
    rules: tuple[FeeRule, ...] = ()
    per: FieldId | None = None  # a number field multiplying the amount (copies, weeks)
    department: Slug | None = None  # the department the payment is for

    @field_validator("amount", mode="before")
    @classmethod
    def two_places(cls, amount: object) -> str:
        return money_text(amount)


def money_text(amount: object) -> str:
    """A positive amount with two decimal places, written as text ("50.00"): YAML would read
    50.00 as a float and lose the cents' meaning."""
    text = str(amount).strip() if isinstance(amount, str | int | float) else ""
    if not MONEY.fullmatch(text) or float(text) <= 0:
        raise ValueError(
            f"{amount!r} is not an amount: write a positive amount with two decimal places "
            'in quotes, like "50.00"'
        )
    return text


class Service(Strict):
    id: Slug
    topic: Slug
    title: Text
    summary: Text
    keywords: tuple[Text, ...] = ()
    # Also on the home page, among the few services most people come for.
    popular: bool = False
    you_need: tuple[Text, ...] = ()
    eligibility: tuple[Text, ...] = ()
    duration: Text
    cost: Text
    cost_source: Slug | None = None  # the department that quotes the fee, if any
    declaration: Text
    what_happens_next: Text
    steps: tuple[Step, ...] = Field(min_length=1)
    deliver_to: tuple[Delivery, ...] = Field(min_length=1)
    fee: Fee | None = None  # paid before sending (the last step)

    @model_validator(mode="after")
    def consistent(self) -> Service:
        step_ids = [step.id for step in self.steps]
        if len(set(step_ids)) != len(step_ids) or RESERVED_STEP_IDS & set(step_ids):
            raise ValueError(f"step ids must be unique and none of {sorted(RESERVED_STEP_IDS)}")
        seen: set[str] = set()
        for step in self.steps:
            if step.when and step.when.field not in seen:
                raise ValueError(
                    f"step {step.id!r} depends on {step.when.field!r}, which no earlier step asks"
                )
            for field in step.fields:
                if field.id in seen:
                    raise ValueError(f"field id {field.id!r} is used twice")
                seen.add(field.id)
            if step.stop and step.stop.when.field not in seen:
                raise ValueError(
                    f"step {step.id!r}: stop.when names {step.stop.when.field!r}, which neither "
                    "this step nor an earlier one asks"
                )
        for delivery in self.deliver_to:
            named = {*delivery.answers, *([delivery.when.field] if delivery.when else [])}
            if delivery.request:
                named |= {v for v in delivery.request.values() if v}
            unknown = named
            if unknown - seen:
                raise ValueError(f"deliver_to {delivery.department!r} names unknown fields")
        self._someone_receives_it()
        self._fee_names_fields()
        return self

    def _someone_receives_it(self) -> None:
        """When every department depends on one choice question always asked, each of its
        answers must send the application somewhere. (Other mixes of conditions are not
        checked: in general that needs every combination of answers.)"""
        conditions = [delivery.when for delivery in self.deliver_to]
        fields = {condition.field for condition in conditions if condition}
        if None in conditions or len(fields) != 1:
            return
        field_id = fields.pop()
        step = next(step for step in self.steps if any(f.id == field_id for f in step.fields))
        field = self.fields()[field_id]
        if step.when or step.repeat or field.type not in ("radios", "select", "yes_no"):
            return
        values = ["yes", "no"] if field.type == "yes_no" else [o.value for o in field.options]
        covered: set[str] = set()
        for condition in conditions:
            assert condition is not None
            if condition.greater_than is not None:
                return
            covered |= {condition.equals} if condition.equals else set(condition.one_of or ())
        missed = [value for value in values if value not in covered]
        if missed or not field.required:
            when = f"is {', '.join(map(repr, missed))}" if missed else "is not answered"
            raise ValueError(
                f"no department receives the application when {field_id!r} {when}: "
                "add a deliver_to for it, or one without `when`"
            )

    def _fee_names_fields(self) -> None:
        """A fee's rules and `per` must name questions the service asks (`per` a number)."""
        if self.fee is None:
            return
        fields = self.fields()
        for index, rule in enumerate(self.fee.rules):
            if rule.when.field not in fields:
                raise ValueError(
                    f"fee.rules[{index}].when names {rule.when.field!r}, which no step asks: "
                    "name a field of one of the steps"
                )
        per = self.fee.per
        if per is not None and (per not in fields or fields[per].type != "number"):
            raise ValueError(
                f"fee.per names {per!r}, which is not a number field of this service: "
                "name a question of type number (like how many copies)"
            )
        named = {delivery.department for delivery in self.deliver_to}
        if self.fee.department is not None and self.fee.department not in named:
            raise ValueError(
                f"fee.department names {self.fee.department!r}, which no deliver_to sends the "
                f"application to: name one of {sorted(named)} or leave it out"
            )

    def fields(self) -> dict[str, FieldDef]:
        return {field.id: field for step in self.steps for field in step.fields}

    @property
    def href(self) -> str:
        """Its start page."""
        return f"/services/{self.id}"


class Link(Strict):
    """A page of the portal that citizens look for among the services but that is no journey
    (paying a bill, the accessibility statement): listed in its topic and found by search like
    a service, its link going to the page itself."""

    id: Slug
    topic: Slug
    title: Text
    summary: Text
    keywords: tuple[Text, ...] = ()
    href: Annotated[str, Field(pattern=r"^/[a-z0-9][a-z0-9/-]*$")]  # a page of the portal
    popular: bool = False  # also on the home page, beside the services


# What the catalogue lists in topics and search results: a service or a link to a page.
Entry = Service | Link


class Department(Strict):
    id: Slug
    name: Text
    contract: str  # a name in portal/contracts/registry.py
    config: dict[str, Any] = Field(default_factory=dict)  # checked by the contract's schema
    pushes: bool  # sends signed status webhooks; otherwise the worker polls it
    # Its work ends when it issues a certificate (else when it approves or rejects).
    issues_certificate: bool = False

    @model_validator(mode="after")
    def _contract_configured(self) -> Department:
        problems = config_problems(self.contract, self.config)
        if problems:
            raise ValueError(f"department '{self.id}': {'; '.join(problems)}")
        return self


class Topic(Strict):
    id: Slug
    title: Text
    description: Text
