"""Config errors name the file, the key path and what is allowed; secrets never echo back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway import ConfigError, config_from_dict, default_config, load_config

ROOT = Path(__file__).resolve().parents[2]


def issues_of(data: Any, env: dict[str, str] | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data, source="test.yaml", env=env or {})
    assert "test.yaml" in str(caught.value)
    return dict(caught.value.issues)


def backend(**overrides: Any) -> dict[str, Any]:
    return {"vendor": "overmind", "base_url": "sim://overmind", **overrides}


def test_example_config_is_the_embedded_default_and_loads() -> None:
    example = ROOT / "config.example.yaml"
    embedded = ROOT / "src" / "gateway" / "default_config.yaml"
    assert example.read_text() == embedded.read_text()
    config = load_config(example)
    assert config == default_config()
    vendors = {b.vendor for b in config.backends.values()}
    assert vendors == {
        "llama-stack",
        "nemo-evaluator",
        "overmind",
        "digitalocean-genai",
        "datarobot-genai",
    }
    assert all(b.simulated for b in config.backends.values())


def test_unknown_keys_say_did_you_mean_and_what_is_allowed() -> None:
    issues = issues_of({"backends": {"om": backend(api_kye="${X}")}, "aliasez": {}})
    assert "did you mean 'api_key'" in issues["backends.om.api_kye"]
    assert "did you mean 'aliases'" in issues["aliasez"]
    assert "backends" in issues["aliasez"]  # lists what is allowed


def test_nested_unknown_key_names_its_full_path() -> None:
    issues = issues_of({"backends": {"om": backend(timeouts={"conect": 1})}})
    assert "did you mean 'connect'" in issues["backends.om.timeouts.conect"]


def test_literal_secret_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"backends": {"om": backend(api_key="ovr_live_SECRET")}}, env={})
    assert "backends.om.api_key" in dict(caught.value.issues)
    assert "ovr_live_SECRET" not in str(caught.value)


def test_missing_environment_variable_is_an_error() -> None:
    issues = issues_of({"backends": {"om": backend(api_key="${OVERMIND_KEY}")}})
    assert issues["backends.om.api_key"] == "environment variable OVERMIND_KEY is not set"


def test_env_reference_is_read_and_hidden_from_repr() -> None:
    config = config_from_dict(
        {"backends": {"om": backend(api_key="${OVERMIND_KEY}")}},
        env={"OVERMIND_KEY": "ovr_secret_value"},
    )
    key = config.backends["om"].api_key
    assert key is not None and key.get_secret_value() == "ovr_secret_value"
    assert "ovr_secret_value" not in repr(config)


@pytest.mark.parametrize(
    ("entry", "path", "fragment"),
    [
        ({"vendor": "openai", "base_url": "sim://overmind"}, "backends.x.vendor", "one of:"),
        (
            backend(vendor="nemo-evaluator", base_url="http://n", api_version="v3"),
            "backends.x",
            "v1, v2",
        ),
        (backend(api_version="v2"), "backends.x", "omit the key"),
        (backend(auth_scheme="basic"), "backends.x", "x-api-key, bearer"),
        (backend(base_url="sim://nemo-evaluator"), "backends.x", "sim://overmind"),
        (backend(base_url="ftp://host"), "backends.x", "http(s)"),
        (backend(base_url="https://user:pw@host"), "backends.x", "credentials"),
        ({"base_url": "sim://overmind"}, "backends.x.vendor", "missing"),
    ],
)
def test_backend_errors_say_what_is_allowed(entry: Any, path: str, fragment: str) -> None:
    issues = issues_of({"backends": {"x": entry}})
    assert fragment in issues[path]


def test_alias_must_point_at_a_backend() -> None:
    issues = issues_of({"backends": {"nemo-prod": backend()}, "aliases": {"evals": "nemo-prd"}})
    assert "did you mean 'nemo-prod'" in issues["aliases.evals"]


def test_names_follow_the_documented_pattern() -> None:
    issues = issues_of({"backends": {"Bad Name": backend()}})
    assert "lowercase" in next(iter(issues.values()))


def test_bad_yaml_and_missing_file_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("backends: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml.*line"):
        load_config(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")
