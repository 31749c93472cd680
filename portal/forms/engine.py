"""Where a journey goes next: conditions, visible steps, what is still to answer.

Answers live in one dict: a field's id holds its value; a repeated step's id holds the list of
its items (each a dict of its fields). Pure functions over a Service and that dict.
"""

from __future__ import annotations

from typing import Any

from portal.catalogue.models import Condition, Delivery, Service, Step

CHECK = "check"
# Where a fee paid before sending is kept in the answers (never a field id: those start with a
# letter); the department paid receives it even when it gets only some answers.
PAID_KEY = "_fee"
STOP = "stop"  # the page that ends a journey whose eligibility question said no


def holds(condition: Condition | None, answers: dict[str, Any]) -> bool:
    if condition is None:
        return True
    value = answers.get(condition.field)
    if condition.equals is not None:
        return value == condition.equals
    if condition.one_of is not None:
        return value in condition.one_of
    try:
        return value is not None and float(value) > float(condition.greater_than or 0)
    except (TypeError, ValueError):
        return False


def visible_steps(service: Service, answers: dict[str, Any]) -> list[Step]:
    """The steps this citizen is asked, given what they answered so far."""
    return [step for step in service.steps if holds(step.when, answers)]


def stopping_step(service: Service, answers: dict[str, Any]) -> Step | None:
    """The first step whose answers end the journey (its `stop.when` holds), if any: nothing
    after it can be seen, answered, checked or sent while it holds."""
    return next(
        (
            step
            for step in visible_steps(service, answers)
            if step.stop and holds(step.stop.when, answers)
        ),
        None,
    )


def is_beyond_stop(service: Service, answers: dict[str, Any], step_id: str) -> bool:
    """Whether `step_id` (or CHECK) lies after the step that ends the journey."""
    stopping = stopping_step(service, answers)
    if stopping is None:
        return False
    ids = [step.id for step in visible_steps(service, answers)]
    if step_id not in ids:
        return True
    return ids.index(step_id) > ids.index(stopping.id)


def find_step(service: Service, step_id: str) -> Step | None:
    return next((step for step in service.steps if step.id == step_id), None)


def is_answered(step: Step, answers: dict[str, Any]) -> bool:
    if step.repeat:
        return bool(answers.get(step.id))
    return all(
        answers.get(field.id) not in (None, "", []) or not field.required for field in step.fields
    ) and any(field.id in answers for field in step.fields)


def step_after(
    service: Service, answers: dict[str, Any], step_id: str, prefilled: set[str] | None = None
) -> str:
    """The next step to show after `step_id` (or CHECK). Steps answered entirely from the
    citizen's saved details are not asked again (tell us once); they can change them at CHECK."""
    steps = visible_steps(service, answers)
    ids = [step.id for step in steps]
    start = ids.index(step_id) + 1 if step_id in ids else 0
    for step in steps[start:]:
        from_profile = prefilled and all(field.id in prefilled for field in step.fields)
        if from_profile and is_answered(step, answers):
            continue
        return _unless_stopped(service, answers, step.id)
    return _unless_stopped(service, answers, CHECK)


def _unless_stopped(service: Service, answers: dict[str, Any], step_id: str) -> str:
    return STOP if is_beyond_stop(service, answers, step_id) else step_id


def step_before(service: Service, answers: dict[str, Any], step_id: str) -> str | None:
    """Where the Back link goes: the previous step, or None for the service's start page."""
    ids = [step.id for step in visible_steps(service, answers)]
    if step_id == STOP:
        stopping = stopping_step(service, answers)
        return stopping.id if stopping else None
    if step_id == CHECK:
        return ids[-1] if ids else None
    index = ids.index(step_id) if step_id in ids else 0
    return ids[index - 1] if index > 0 else None


def next_to_answer(service: Service, answers: dict[str, Any]) -> str:
    """Where a resumed draft continues: the first visible step not answered yet, else CHECK."""
    for step in visible_steps(service, answers):
        if not is_answered(step, answers):
            return step.id
        if step.stop and holds(step.stop.when, answers):
            return STOP
    return CHECK


def relevant_answers(service: Service, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers to the steps still asked (a changed answer can hide earlier ones)."""
    kept: dict[str, Any] = {}
    for step in visible_steps(service, answers):
        if step.repeat:
            if step.id in answers:
                kept[step.id] = answers[step.id]
            continue
        for field in step.fields:
            if field.id in answers:
                kept[field.id] = answers[field.id]
    return kept


def documents_in(answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Every file in the answers: a single upload is one dict, several are a list of them."""
    found: list[dict[str, Any]] = []
    for value in answers.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "document" in item:
                found.append(item)
    return found


def answers_for(service: Service, delivery: Delivery, answers: dict[str, Any]) -> dict[str, Any]:
    """The part of the answers a department receives (a repeated step travels whole)."""
    if not delivery.answers:
        return dict(answers)
    wanted = set(delivery.answers)
    shared: dict[str, Any] = {}
    for step in service.steps:
        if step.repeat and wanted & {field.id for field in step.fields} and step.id in answers:
            shared[step.id] = answers[step.id]
        for field in step.fields:
            if field.id in wanted and field.id in answers:
                shared[field.id] = answers[field.id]
    paid_to = service.fee.department if service.fee else None
    if PAID_KEY in answers and paid_to in (None, delivery.department):
        shared[PAID_KEY] = answers[PAID_KEY]
    return shared


def deliveries(service: Service, answers: dict[str, Any]) -> list[Delivery]:
    """The departments this application goes to, given the answers."""
    return [delivery for delivery in service.deliver_to if holds(delivery.when, answers)]
