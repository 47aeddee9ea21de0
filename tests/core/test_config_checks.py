"""Config mistakes a new user makes: each reported at its key path (with the line for YAML
duplicates), all of them at once, with a "did you mean" where one is close."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway import ConfigError, config_from_dict, load_config


def issues_of_file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "gateway.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    return dict(caught.value.issues)


def issues_of(data: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data, source="test.yaml", env={})
    return dict(caught.value.issues)


LS = {"vendor": "llama-stack", "base_url": "sim://llama-stack"}


def test_a_backend_defined_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    issues = issues_of_file(
        tmp_path,
        "backends:\n"
        "  ls-dev:\n    vendor: llama-stack\n    base_url: sim://llama-stack\n"
        "  ls-dev:\n    vendor: overmind\n    base_url: sim://overmind\n",
    )
    assert issues == {"backends.ls-dev": "defined twice (line 2 and line 5); keep one"}


def test_a_nested_duplicate_key_names_its_whole_path(tmp_path: Path) -> None:
    issues = issues_of_file(
        tmp_path,
        "backends:\n  ls:\n    vendor: llama-stack\n    base_url: sim://llama-stack\n"
        "    timeouts:\n      read: 5\n      read: 6\n",
    )
    assert issues == {"backends.ls.timeouts.read": "defined twice (line 6 and line 7); keep one"}


def test_a_vendor_typo_gets_a_did_you_mean() -> None:
    issues = issues_of({"backends": {"nemo": {**LS, "vendor": "nemo-evaluater"}}})
    assert "did you mean 'nemo-evaluator'?" in issues["backends.nemo.vendor"]


def test_name_and_alias_errors_are_at_their_key_paths_and_all_shown() -> None:
    issues = issues_of(
        {
            "backends": {"ls": LS, "Bad Name": LS},
            "aliases": {"evals": "lss", "other": "nope", "ls": "ls"},
        }
    )
    assert set(issues) == {"backends.Bad Name", "aliases.evals", "aliases.other", "aliases.ls"}
    assert "did you mean 'ls'?" in issues["aliases.evals"]
    assert "same name as a backend" in issues["aliases.ls"]


def test_alias_errors_are_shown_beside_a_broken_backend() -> None:
    # The backend's own error stops the model before its name checks; both are reported.
    issues = issues_of({"backends": {"ls": {**LS, "vendor": "nope"}}, "aliases": {"evals": "lz"}})
    assert set(issues) == {"backends.ls.vendor", "aliases.evals"}


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ({"server": {"port": True}}, "server.port"),
        ({"server": {"max_body_bytes": False}}, "server.max_body_bytes"),
        ({"backends": {"ls": {**LS, "timeouts": {"read": True}}}}, "backends.ls.timeouts.read"),
        (
            {"backends": {"ls": {**LS, "retry": {"max_attempts": True}}}},
            "backends.ls.retry.max_attempts",
        ),
    ],
)
def test_true_is_not_a_number(section: dict[str, Any], path: str) -> None:
    issues = issues_of({"backends": {"ls": LS}, **section})
    assert issues[path] == "must be a number, not true/false"


def test_numbers_from_the_environment_still_work() -> None:
    config = config_from_dict(
        {"backends": {"ls": LS}, "server": {"port": "${PORT}"}}, env={"PORT": "9090"}
    )
    assert config.server.port == 9090
