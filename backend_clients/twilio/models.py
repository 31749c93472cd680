"""The parts of Twilio's resources that Front Door reads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    sid: str
    account_sid: str
    to: str
    from_: str = Field(alias="from")
    body: str = ""
    status: str
    num_media: str = "0"
    direction: str = "outbound-api"
    date_created: str | None = None
    error_code: int | None = None


class Account(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sid: str
    friendly_name: str = ""
    status: str
