"""Every backend contract the portal speaks, by the name departments.yaml gives in `contract:`.
A new contract is one module beside this one and one line here."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from portal.contracts import department, digit, email, json_post, open311
from portal.contracts.base import Config, Connection, Contract, Environment

CONTRACTS: dict[str, Contract] = {
    contract.name: contract
    for contract in (
        department.CONTRACT,
        open311.CONTRACT,
        digit.CONTRACT,
        email.CONTRACT,
        json_post.CONTRACT,
    )
}


class ContractError(ValueError):
    """A department's contract or configuration is wrong; the message names both."""


def contract_of(name: str) -> Contract:
    try:
        return CONTRACTS[name]
    except KeyError:
        known = ", ".join(sorted(CONTRACTS))
        raise ContractError(f"unknown contract '{name}' (known: {known})") from None


def config_problems(name: str, config: dict[str, Any]) -> list[str]:
    """What is wrong with a department's `config:` for its contract, as `config.<field>: why`."""
    try:
        contract_of(name).config.model_validate(config)
    except ContractError as error:
        return [f"contract: {error}"]
    except ValidationError as error:
        return [
            f"config.{'.'.join(str(part) for part in item['loc']) or '(whole)'}: {item['msg']}"
            for item in error.errors()
        ]
    return []


def request_problems(name: str, request: dict[str, str] | None) -> list[tuple[str, str]]:
    """What is wrong with a delivery's `request:` block for the department's contract, as
    (path under `request`, why)."""
    contract = contract_of(name)
    if contract.request is None:
        return [("", f"the {name} contract takes no request block")] if request else []
    if request is None:
        return [("", f"the {name} contract needs a request block")]
    try:
        contract.request.model_validate(request)
    except ValidationError as error:
        return [
            (".".join(str(part) for part in item["loc"]), item["msg"]) for item in error.errors()
        ]
    return []


def connect(department: str, name: str, config: dict[str, Any], env: Environment) -> Connection:
    contract = contract_of(name)
    return contract.connect(department, contract.config.model_validate(config), env)


__all__ = ["CONTRACTS", "Config", "ContractError", "config_problems", "connect", "contract_of"]
