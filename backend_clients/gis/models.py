"""An address as the municipal geocoder gives it (CONTRACTS.md §2)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Address(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    label: str
    street: str
    number: str
    postcode: str
    town: str
    lat: float
    lon: float


class SearchResults(BaseModel):
    model_config = ConfigDict(extra="ignore")

    results: list[Address]
