"""Caller auth on a real server: 401 with WWW-Authenticate, 403 per key, open health."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.proc import Proc, example_config, gateway, write_config

ADMIN_KEY = "admin-key-0123456789abcdef"  # given as ${GW_TEST_ADMIN_KEY}
CI_KEY = "ci-key-0123456789abcdef"  # kept as its sha256, allowed only the "evals" alias
NEMO_DONE = "nemo-v1-sim~eval-Fgba8Joty3mzZwwymkJacB"
DO_DONE = "do-sim~9758a232-b351-11ef-bf8f-4e013e2ddde4"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    workdir = tmp_path_factory.mktemp("auth")
    config = example_config()
    config["auth"] = {
        "enabled": True,
        "keys": [
            {"name": "admin", "key": "${GW_TEST_ADMIN_KEY}"},
            {
                "name": "ci",
                "key_sha256": hashlib.sha256(CI_KEY.encode()).hexdigest(),
                "backends": ["evals"],
            },
        ],
    }
    path = write_config(workdir / "gateway.yaml", config)
    with gateway(workdir, path, env={"GW_TEST_ADMIN_KEY": ADMIN_KEY}) as proc:
        yield proc


def call(proc: Proc, path: str, key: str | None = None, **headers: str) -> httpx.Response:
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.get(proc.url + path, headers=headers, timeout=30)


@pytest.mark.parametrize("path", ["/v1/backends", "/v1/backends/evals/jobs", f"/v1/jobs/{DO_DONE}"])
@pytest.mark.parametrize("key", [None, "wrong-key-0123456789abcdef"])
def test_no_or_a_wrong_key_is_401_with_www_authenticate(
    secured: Proc, path: str, key: str | None
) -> None:
    response = call(secured, path, key)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/unauthorized"


def test_a_key_from_the_environment_may_use_everything(secured: Proc) -> None:
    assert call(secured, f"/v1/jobs/{DO_DONE}", ADMIN_KEY).status_code == 200
    assert call(secured, "/v1/backends/overmind-sim/jobs", ADMIN_KEY).status_code == 200
    names = {b["name"] for b in call(secured, "/v1/backends", ADMIN_KEY).json()["backends"]}
    assert len(names) == 6


def test_x_api_key_header_works_too(secured: Proc) -> None:
    assert call(secured, f"/v1/jobs/{DO_DONE}", **{"X-API-Key": ADMIN_KEY}).status_code == 200


def test_a_limited_key_reaches_its_alias_and_the_backend_behind_it(secured: Proc) -> None:
    assert call(secured, "/v1/backends/evals/jobs", CI_KEY).status_code == 200
    # Job ids carry the backend name; the alias's backend is allowed with it.
    assert call(secured, f"/v1/jobs/{NEMO_DONE}", CI_KEY).status_code == 200
    listed = call(secured, "/v1/backends", CI_KEY).json()
    assert [b["name"] for b in listed["backends"]] == ["nemo-v1-sim"]
    assert listed["aliases"] == {"evals": "nemo-v1-sim"}


@pytest.mark.parametrize(
    "path", ["/v1/backends/do-sim/jobs", "/v1/backends/agent-evals/jobs", f"/v1/jobs/{DO_DONE}"]
)
def test_a_limited_key_is_forbidden_elsewhere(secured: Proc, path: str) -> None:
    response = call(secured, path, CI_KEY)
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/forbidden"


def test_a_limited_key_does_not_learn_which_backends_exist(secured: Proc) -> None:
    response = call(secured, "/v1/backends/secret-prod/jobs", CI_KEY)
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json"])
def test_health_and_docs_stay_open(secured: Proc, path: str) -> None:
    assert call(secured, path).status_code == 200


def test_readiness_says_auth_is_on_and_no_warning_was_logged(secured: Proc) -> None:
    assert call(secured, "/readyz").json()["config"]["auth_enabled"] is True
    assert "CALLER AUTH IS OFF" not in secured.log_text()


def test_keys_never_reach_logs_or_answers(secured: Proc) -> None:
    call(secured, "/v1/backends", CI_KEY, **{"X-Request-ID": "who-1"})
    call(secured, "/v1/backends", "wrong-key-0123456789abcdef")
    secured.wait_for_log('"request_id":"who-1"')
    logs = secured.log_text()
    [access] = [
        r
        for r in secured.log_records()
        if r["logger"] == "gateway.access" and r["request_id"] == "who-1"
    ]
    assert access["caller"] == "ci"
    for secret in (ADMIN_KEY, CI_KEY, "wrong-key-0123456789abcdef"):
        assert secret not in logs
    assert ADMIN_KEY not in call(secured, "/v1/backends", ADMIN_KEY).text
    assert ADMIN_KEY not in call(secured, "/readyz").text


def test_a_config_with_a_literal_key_is_refused_before_listening(tmp_path: Path) -> None:
    config = example_config()
    config["auth"] = {"enabled": True, "keys": [{"name": "x", "key": "literal-key-0123456789"}]}
    path = write_config(tmp_path / "bad.yaml", config)
    refused = r"auth\.keys\.0\.key: secrets must be a \$\{ENV_VAR\}"
    with pytest.raises(RuntimeError, match=refused), gateway(tmp_path, path):
        pass
