"""A page of a list."""

from __future__ import annotations

from pydantic import BaseModel, Field

from gateway.schemas.job import Job


class Page(BaseModel):
    """One page of jobs; pass `next_page_token` back to get the next one."""

    items: list[Job]
    next_page_token: str | None = Field(default=None, description="Opaque; absent on the last page")
    total: int | None = Field(default=None, description="Total count, where the vendor gives one")
