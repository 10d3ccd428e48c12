"""The writer port: which writer writes the report, and the analysis package's import layering."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import knightvision.analysis
from knightvision.analysis.report import choose_writer
from knightvision.analysis.writing.deterministic import DETERMINISTIC_ENGINE, DeterministicWriter
from knightvision.analysis.writing.llm import LLMWriter
from knightvision.analysis.writing.port import Writer
from tests.fixtures.ad_reports import fast_cut_ad


class _Model:
    model, vision = "some-model", False

    def complete(
        self, messages: Any, *, response_format_json: bool, timeout: float, schema: Any = None
    ) -> str:
        raise AssertionError("not called")


def test_without_a_model_the_deterministic_writer_writes() -> None:
    writer: Writer = choose_writer(None)
    assert isinstance(writer, DeterministicWriter)
    assert writer.engine == DETERMINISTIC_ENGINE == "deterministic-v1"
    assert writer.write(fast_cut_ad()).engine["summary"] == DETERMINISTIC_ENGINE


def test_with_a_model_the_llm_writer_writes_over_the_deterministic_one() -> None:
    writer = choose_writer(_Model(), timeout=3.0)
    assert isinstance(writer, LLMWriter)
    assert writer.engine == "llm:some-model"
    assert isinstance(writer.fallback, DeterministicWriter) and writer.timeout == 3.0


def _imports(path: Path, package: str) -> set[str]:
    """Every ``package`` module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name.startswith(package + "."))
    return found


def test_the_analysis_package_has_no_import_cycle() -> None:
    root = Path(knightvision.analysis.__file__).parent
    package = "knightvision.analysis"
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join((package, *parts)).removesuffix(".__init__")
        modules[name] = path
    graph = {name: _imports(path, package) & modules.keys() for name, path in modules.items()}

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        seen = set()
        while stack:
            node, chain = stack.pop()
            for imported in graph[node]:
                if imported == start:
                    return [*chain, start]
                if imported not in seen:
                    seen.add(imported)
                    stack.append((imported, [*chain, imported]))
        return None

    cycles = [cycle for name in sorted(graph) if (cycle := cycle_from(name))]
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)
    assert len(modules) > 20  # the walk found the package's modules
