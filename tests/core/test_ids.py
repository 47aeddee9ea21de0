"""Gateway job ids: readable, URL-safe, round-trip exactly; malformed ones are invalid-request."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway import InvalidRequest, format_job_id, parse_job_id

backend_names = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)
vendor_ids = st.text(min_size=1, max_size=40)


@given(backend=backend_names, parts=st.lists(vendor_ids, min_size=1, max_size=3))
def test_any_vendor_identifiers_round_trip(backend: str, parts: list[str]) -> None:
    job_id = format_job_id(backend, *parts)
    ref = parse_job_id(job_id)
    assert ref.backend == backend
    assert ref.parts == tuple(parts)
    assert str(ref) == job_id


@given(backend=backend_names, parts=st.lists(vendor_ids, min_size=1, max_size=3))
def test_ids_are_one_url_safe_path_segment(backend: str, parts: list[str]) -> None:
    job_id = format_job_id(backend, *parts)
    assert re.fullmatch(r"[A-Za-z0-9._~!-]+", job_id)
    # Nothing a client would percent-encode, so routers see the id unchanged.
    assert quote(job_id, safe="~!") == job_id


def test_plain_ids_stay_readable() -> None:
    assert format_job_id("ls-dev", "mmlu", "0") == "ls-dev~mmlu~0"
    assert format_job_id("nemo", "eval-UVW123XYZ456") == "nemo~eval-UVW123XYZ456"
    assert format_job_id("ls", "nvidia/mmlu", "eval-1") == "ls~nvidia!2Fmmlu~eval-1"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "no-separator",
        "Upper~x",
        "-lead~x",
        "ok~",
        "ok~~x",
        "ok~has space",
        "ok~bad%2F",
        "ok~bad!2",
        "ok~bad!zz",
        "ok~!FF",  # an escape that is not UTF-8
        "a~" + "x" * 2000,
    ],
)
def test_malformed_ids_are_invalid_request(bad: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_job_id(bad)
    assert caught.value.problem().status == 400
    assert caught.value.problem().slug == "invalid-request"


@given(st.text(max_size=60))
def test_parsing_any_text_gives_a_ref_or_invalid_request(text: str) -> None:
    try:
        ref = parse_job_id(text)
    except InvalidRequest:
        return
    assert str(ref) == text
