"""The layout rules of issue 10, measured on src/gateway: no import circles between modules
(counting every import: module level, under TYPE_CHECKING and inside functions), small
modules, and the layers' directions (vendors and the adapter framework import nothing of the
layers above them; core imports no simulator).

The import graph is grimp's (the library behind import-linter), built from the source files.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import grimp
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "gateway"
MAX_MODULE_LINES = 400
MAX_MEDIAN_LINES = 200
# The layers above the vendors: a vendor package or the adapter framework importing one of
# them would tie a vendor to how the gateway serves, retries, caches or shows it.
ABOVE_VENDORS = (
    "gateway.server",
    "gateway.resilience",
    "gateway.core",
    "gateway.cli",
    "gateway.ui",
)
BELOW_THEM = ("gateway.vendors", "gateway.adapters")


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def is_simulator(module: str) -> bool:
    """The shared simulator engine, or a vendor's simulator (gateway.vendors.<vendor>.sim)."""
    parts = module.split(".")
    return within(module, "gateway.simulators") or (
        parts[:2] == ["gateway", "vendors"] and "sim" in parts[3:]
    )


def build_graph(package: str) -> grimp.ImportGraph:
    # Every import counts: grimp keeps TYPE_CHECKING and function-level ones by default.
    return grimp.build_graph(package, exclude_type_checking_imports=False, cache_dir=None)


def import_circles(graph: grimp.ImportGraph) -> list[str]:
    """Each circle once, as the shortest chain back through one of its imports."""
    circles: dict[frozenset[str], str] = {}
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                circle = (importer, *back)
                circles.setdefault(frozenset(circle), " -> ".join(circle))
    return sorted(circles.values())


def imports_where(
    graph: grimp.ImportGraph, importer: Callable[[str], bool], imported: Callable[[str], bool]
) -> list[str]:
    """Every direct import from a module `importer` accepts of one `imported` accepts."""
    found = []
    for module in sorted(m for m in graph.modules if importer(m)):
        for target in sorted(graph.find_modules_directly_imported_by(module)):
            if imported(target):
                for detail in graph.get_import_details(importer=module, imported=target):
                    line = f"{module}:{detail['line_number']}: {detail['line_contents']}"
                    found.append(line)
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    spec = importlib.util.find_spec("gateway")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).resolve().parent == SRC, "measure this checkout's src/gateway"
    return build_graph("gateway")


def test_no_import_circles_between_gateway_modules(graph: grimp.ImportGraph) -> None:
    circles = import_circles(graph)
    assert not circles, "import circles (each import counts):\n" + "\n".join(circles)


def test_no_module_over_400_lines_and_the_median_at_most_200() -> None:
    lines = {
        str(path.relative_to(SRC.parent)): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(SRC.rglob("*.py"))
    }
    too_long = {name: count for name, count in lines.items() if count > MAX_MODULE_LINES}
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"
    median = statistics.median(lines.values())
    assert median <= MAX_MEDIAN_LINES, f"median module: {median} lines ({len(lines)} modules)"


def test_vendors_and_adapters_import_nothing_from_the_layers_above(
    graph: grimp.ImportGraph,
) -> None:
    found = imports_where(
        graph,
        lambda m: any(within(m, low) for low in BELOW_THEM),
        lambda m: any(within(m, up) for up in ABOVE_VENDORS),
    )
    assert not found, "imports into a vendor or the adapter framework from above:\n" + "\n".join(
        found
    )


# The layers below core, which nothing of core's or above may be reached from by any chain.
FOUNDATION = (
    "gateway.vendors",
    "gateway.adapters",
    "gateway.transport",
    "gateway.simulators",
    "gateway.contract",
    "gateway.schemas",
)
ABOVE_FOUNDATION = (
    *ABOVE_VENDORS,
    "gateway.watch",
    "gateway.ledger",
    "gateway.ledger_jobs",
    "gateway.client",
    "gateway.export",
)


def test_the_foundation_reaches_no_layer_above_it_by_any_chain(graph: grimp.ImportGraph) -> None:
    # Indirect chains count too: an adapter importing a helper that imports the server is as
    # tied to the server as one importing it.
    chains = [
        " -> ".join(chain)
        for low in FOUNDATION
        for up in ABOVE_FOUNDATION
        for chain in sorted(graph.find_shortest_chains(importer=low, imported=up, as_packages=True))
    ]
    assert not chains, "a foundation layer reaches one above it:\n" + "\n".join(chains)


def test_core_imports_no_simulator(graph: grimp.ImportGraph) -> None:
    found = imports_where(graph, lambda m: within(m, "gateway.core"), is_simulator)
    assert not found, "core imports a simulator:\n" + "\n".join(found)


# -- the checks see what they must ---------------------------------------------------------------


def test_the_circle_check_counts_type_checking_and_function_level_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "circles_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    # a <-> b only through a function-level import; c <-> d only under TYPE_CHECKING.
    (package / "a.py").write_text("def f():\n    from circles_probe import b\n")
    (package / "b.py").write_text("from circles_probe import a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from circles_probe import d\n"
    )
    (package / "d.py").write_text("import circles_probe.c\n")
    (package / "e.py").write_text("import circles_probe.a\n")  # no circle through e
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        circles = import_circles(build_graph("circles_probe"))
    finally:
        sys.modules.pop("circles_probe", None)
    assert circles == [
        "circles_probe.a -> circles_probe.b -> circles_probe.a",
        "circles_probe.c -> circles_probe.d -> circles_probe.c",
    ]


def test_a_vendor_simulator_is_told_from_a_vendor_adapter() -> None:
    assert is_simulator("gateway.vendors.overmind.sim")
    assert is_simulator("gateway.vendors.overmind.sim.app")
    assert is_simulator("gateway.simulators.engine")
    assert not is_simulator("gateway.vendors.overmind.adapter")
    assert not is_simulator("gateway.vendors.simulated")  # a vendor's name is not its sim
