"""`Adapter.can_cancel` says whether a vendor has a cancel at all (the status board offers one
only then): where it is False, a cancel is refused as unsupported without calling the vendor."""

from __future__ import annotations

import httpx
import pytest

from gateway.adapters import adapter_class, api_versions
from gateway.adapters.base import Adapter, BackendContext
from gateway.errors import UnsupportedOperation
from gateway.ids import JobRef
from gateway.schemas.job import VENDORS


def built_in_adapters() -> list[type[Adapter]]:
    return [
        adapter_class(vendor, version)
        for vendor in VENDORS
        for version in (api_versions(vendor) or (None,))
    ]


# A well-formed job reference per vendor without a cancel (its vendor identifiers).
REFS = {
    "digitalocean-genai": ("1c2e3f40-b7d6-11ef-bf8f-4e013e2ddde4",),
    "datarobot-genai": ("genai", "65f1a2b3c4d5e6f708192a3b"),
}


def no_vendor_call(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the vendor was called: {request.method} {request.url}")


@pytest.mark.parametrize("cls", built_in_adapters(), ids=lambda cls: cls.__name__)
async def test_a_vendor_without_cancel_refuses_it_without_a_call(cls: type[Adapter]) -> None:
    if cls.can_cancel:
        assert cls.cancel_job is not Adapter.cancel_job, "can_cancel without a cancel_job"
        return
    http = httpx.AsyncClient(transport=httpx.MockTransport(no_vendor_call), base_url="http://v")
    adapter = cls(BackendContext(backend="b", vendor=cls.vendor), http)
    ref = JobRef("b", REFS[cls.vendor])
    with pytest.raises(UnsupportedOperation, match="cancel"):
        await adapter.cancel_job(ref)
    await http.aclose()


def test_only_the_vendors_without_a_cancel_endpoint_say_so() -> None:
    # DigitalOcean agent evaluation runs and DataRobot GenAI jobs have no cancel (their API.md).
    without = {cls.vendor for cls in built_in_adapters() if not cls.can_cancel}
    assert without == {"digitalocean-genai", "datarobot-genai"}
