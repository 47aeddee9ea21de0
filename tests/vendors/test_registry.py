"""The one vendor registry: every vendor comes from the `eval_gateway.adapters` entry points
(the built-ins too), an unknown name gets a did-you-mean, and a broken plug-in is named in
every error that touches it rather than dropped."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.adapters import adapter_class, api_versions
from gateway.cli.app import app
from gateway.config import config_from_dict
from gateway.errors import ConfigError, InvalidRequest
from gateway.schemas.job import Vendor
from gateway.simulators import vendor_sim
from gateway.vendors import registry
from gateway.vendors.registry import (
    ENTRY_POINT_GROUP,
    UnknownVendor,
    VendorPluginError,
    VendorSpec,
    vendor_names,
    vendor_spec,
)


def install_plugin(
    root: Path, dist: str, entry_points: dict[str, str], modules: dict[str, str]
) -> None:
    """A plug-in as pip leaves it: its modules plus a *.dist-info with its entry points."""
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A sys.path entry to install plug-ins into; the registry is read afresh around it."""
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.reload()
    yield tmp_path
    monkeypatch.undo()
    registry.reload()


def backend(vendor: str) -> dict[str, object]:
    return {"backends": {"x": {"vendor": vendor, "base_url": "http://vendor.example"}}}


def config_issues(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data)
    return dict(caught.value.issues)


def test_the_built_ins_register_through_the_entry_point_group() -> None:
    found = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert found == {v.value: f"gateway.vendors.{v.value.replace('-', '_')}:SPEC" for v in Vendor}
    assert vendor_names() == tuple(v.value for v in Vendor)
    assert registry.broken_plugins() == {}


def test_a_spec_gives_the_adapter_per_api_version_and_the_simulator() -> None:
    assert api_versions("nemo-evaluator") == ("v1", "v2")
    assert api_versions("overmind") == ()
    assert adapter_class("nemo-evaluator").__name__ == "NemoV1Adapter"  # the default version
    assert adapter_class("nemo-evaluator", "v2").__name__ == "NemoV2Adapter"
    assert adapter_class("llama-stack").auth_schemes  # auth schemes stay the adapter's
    assert vendor_sim("overmind").vendor == "overmind"
    with pytest.raises(UnknownVendor, match=r"api_version 'v3' \(its versions: v1, v2\)"):
        adapter_class("nemo-evaluator", "v3")


def test_an_unknown_vendor_is_a_typed_400_with_a_did_you_mean() -> None:
    with pytest.raises(UnknownVendor) as caught:
        vendor_spec("overmnd")
    error = caught.value
    assert isinstance(error, InvalidRequest) and isinstance(error, KeyError)
    assert error.problem().status == 400
    assert str(error).startswith("unknown vendor 'overmnd' (did you mean 'overmind'?); one of:")
    issue = config_issues(backend("overmnd"))["backends.x.vendor"]
    assert issue.startswith("unknown vendor (did you mean 'overmind'?); one of: llama-stack,")


def test_importing_the_registry_loads_no_adapter_or_simulator() -> None:
    probe = (
        "import sys; from gateway.vendors import registry; registry.vendor_names();"
        "print(sorted(m for m in sys.modules if m.startswith('gateway.vendors.')"
        " and m.count('.') > 2))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_plugin_that_fails_to_load_is_named_not_dropped(plugins: Path) -> None:
    install_plugin(
        plugins,
        "broken-evals",
        {"broken-evals": "broken_evals:SPEC"},
        {"broken_evals": "import no_such_dependency\n"},
    )
    assert "broken-evals" not in vendor_names()
    assert "no_such_dependency" in registry.broken_plugins()["broken-evals"]
    with pytest.raises(VendorPluginError, match=r"'broken-evals' \(broken_evals:SPEC\) failed"):
        vendor_spec("broken-evals")
    issue = config_issues(backend("broken-evals"))["backends.x.vendor"]
    assert "vendor plug-in 'broken-evals'" in issue and "ModuleNotFoundError" in issue
    # Naming another vendor still says which plug-in did not load.
    with pytest.raises(UnknownVendor, match="plug-ins that failed to load: broken-evals"):
        vendor_spec("openai")
    simulate = CliRunner().invoke(app, ["simulate", "broken-evals"])
    assert simulate.exit_code == 2
    assert "vendor plug-in 'broken-evals' (broken_evals:SPEC) failed" in simulate.stderr


def test_a_plugin_must_publish_its_own_spec_and_cannot_take_a_built_in_name(
    plugins: Path,
) -> None:
    spec = """
        from gateway.vendors.registry import VendorSpec
        SPEC = VendorSpec(name="other-evals", adapters={None: "acme:Adapter"})
        NOT_A_SPEC = 42
    """
    install_plugin(
        plugins,
        "odd-evals",
        {
            "odd-evals": "odd_evals:SPEC",  # describes another vendor
            "number-evals": "odd_evals:NOT_A_SPEC",
            "overmind": "odd_evals:SPEC",  # a second registration of a built-in
        },
        {"odd_evals": spec},
    )
    broken = registry.broken_plugins()
    assert "describes vendor 'other-evals'" in broken["odd-evals"]
    assert "is a int, not a gateway.vendors.registry.VendorSpec" in broken["number-evals"]
    assert "registered twice" in broken["overmind"]
    with pytest.raises(VendorPluginError, match="registered twice"):
        adapter_class("overmind")


def test_an_adapter_path_that_is_no_adapter_is_named(plugins: Path) -> None:
    spec = """
        from gateway.vendors.registry import VendorSpec
        FAKE = VendorSpec(name="fake-evals", adapters={None: "fake_evals:NotAnAdapter"})
        BARE = VendorSpec(
            name="bare-evals", adapters={None: "gateway.vendors.overmind.adapter:OvermindAdapter"}
        )
        class NotAnAdapter: ...
    """
    install_plugin(
        plugins,
        "fake-evals",
        {"fake-evals": "fake_evals:FAKE", "bare-evals": "fake_evals:BARE"},
        {"fake_evals": spec},
    )
    assert {"fake-evals", "bare-evals"} <= set(vendor_names())
    with pytest.raises(VendorPluginError, match="fake_evals:NotAnAdapter is not a gateway"):
        adapter_class("fake-evals")
    issue = config_issues(backend("fake-evals"))["backends.x"]
    assert "fake_evals:NotAnAdapter is not a gateway.adapters.Adapter subclass" in issue
    # A plug-in without a simulator: no sim:// backend for it.
    with pytest.raises(UnknownVendor, match="no simulator for vendor 'bare-evals'"):
        vendor_sim("bare-evals")
    simulated = {"backends": {"x": {"vendor": "bare-evals", "base_url": "sim://bare-evals"}}}
    issue = config_issues(simulated)["backends.x"]
    assert issue == "vendor 'bare-evals' has no simulator: use http(s)://"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "Bad Name", "adapters": {None: "m:A"}}, "must match"),
        ({"name": "x", "adapters": {}}, "names no adapter"),
        ({"name": "x", "adapters": {"v1": "m:A"}}, "default_api_version must be one of"),
        ({"name": "x", "adapters": {None: "m:A", "v1": "m:B"}}, "either API versions"),
        ({"name": "x", "adapters": {None: "m.A"}}, "is not 'module:attribute'"),
    ],
)
def test_a_malformed_spec_is_refused_where_it_is_written(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        VendorSpec(**fields)  # type: ignore[arg-type]
