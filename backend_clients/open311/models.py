"""Open311 GeoReport v2 resources as public works speaks them (CONTRACTS.md §4)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Open311Service(_Answer):
    service_code: str
    service_name: str
    description: str = ""
    metadata: bool = False
    type: str = "realtime"
    keywords: str = ""
    group: str = ""


class ServiceRequest(BaseModel):
    """A problem report: where (lat and long, or an address) and what."""

    service_code: str
    description: str = Field(min_length=1, max_length=4000)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    address_string: str | None = None
    media_url: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None

    @model_validator(mode="after")
    def _located(self) -> ServiceRequest:
        if (self.lat is None) != (self.long is None):
            raise ValueError("lat and long go together")
        if self.lat is None and not self.address_string:
            raise ValueError("a location is required: lat and long, or address_string")
        return self


class RequestCreated(_Answer):
    service_request_id: str
    service_notice: str | None = None
    account_id: str | None = None


class ServiceRequestStatus(_Answer):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None = None
    service_name: str | None = None
    service_code: str
    description: str | None = None
    agency_responsible: str | None = None
    requested_datetime: AwareDatetime
    updated_datetime: AwareDatetime | None = None
    address: str | None = None
    lat: float | None = None
    long: float | None = None
    media_url: str | None = None
