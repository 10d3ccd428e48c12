"""The decision record is complete, and the repository cites nothing outside itself.

Every decision id cited in ``src/``, ``tests/``, ``bench/``, ``docs/`` or ``README.md`` must have an
entry heading in ``docs/decisions.md`` (``## D13 Job statuses``); an entry nothing cites is fine.
Code, docs and the README must not point at files or trackers a reader of the repository lacks.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "docs" / "decisions.md"
CITING = ("src", "tests", "bench", "docs", "README.md")
STANDALONE = ("src", "docs", "README.md")
# Prose and code only: data files (JSON fixtures, base64, hex dumps) could hold "D8" by chance.
TEXT_SUFFIXES = frozenset({".py", ".md", ".mako", ".toml", ".txt", ".rst"})

# "D" and one or two digits, an optional "a" (D4a); the word boundaries keep out "0xD3", "AD12",
# "D123".
DECISION_ID = re.compile(r"\bD[1-9][0-9]?a?\b")
ENTRY_HEADING = re.compile(r"^#{2,3} (D[1-9][0-9]?a?)\b", re.MULTILINE)
OUTSIDE_REFERENCE = re.compile(r"shared/|partner-api-v1|\bissue\s+#?[0-9]+", re.IGNORECASE)


def text_files(root: Path, parts: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        path = root / part
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        files.extend(
            candidate
            for candidate in candidates
            if candidate.is_file()
            and candidate.suffix in TEXT_SUFFIXES
            and "__pycache__" not in candidate.parts
        )
    return files


def cited_ids(root: Path) -> dict[str, list[str]]:
    """Decision id -> the places (``path:line``) that cite it."""
    citations: dict[str, list[str]] = {}
    for path in text_files(root, CITING):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            for decision in DECISION_ID.findall(line):
                where = f"{path.relative_to(root)}:{number}"
                citations.setdefault(decision, []).append(where)
    return citations


def recorded_ids(record: Path) -> list[str]:
    return ENTRY_HEADING.findall(record.read_text(encoding="utf-8"))


def missing_entries(root: Path, record: Path) -> dict[str, list[str]]:
    recorded = set(recorded_ids(record))
    return {
        decision: places
        for decision, places in sorted(cited_ids(root).items())
        if decision not in recorded
    }


def outside_references(root: Path) -> list[str]:
    found: list[str] = []
    for path in text_files(root, STANDALONE):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            for match in OUTSIDE_REFERENCE.finditer(line):
                found.append(f"{path.relative_to(root)}:{number}: {match.group(0)!r}")
    return found


def test_every_cited_decision_has_an_entry() -> None:
    missing = missing_entries(ROOT, RECORD)
    assert not missing, f"cited but not in docs/decisions.md: {missing}"


def test_each_decision_has_one_entry() -> None:
    recorded = recorded_ids(RECORD)
    assert recorded, "docs/decisions.md has no entry headings"
    assert len(recorded) == len(set(recorded)), f"duplicate entries: {sorted(recorded)}"


def test_nothing_cites_outside_the_repository() -> None:
    found = outside_references(ROOT)
    assert not found, f"references to files or issues outside the repository: {found}"


def test_the_id_pattern_matches_citations_only() -> None:
    text = "(D4a, D13) D1: D22. 0xD3 AD12 D123 D0 d13 D4b deadD1 D1x"
    assert DECISION_ID.findall(text) == ["D4a", "D13", "D1", "D22"]


def test_an_uncited_entry_is_fine_and_an_unrecorded_citation_is_caught(tmp_path: Path) -> None:
    unrecorded = "D" + "98"  # built here, so this file does not cite it
    (tmp_path / "docs").mkdir()
    (tmp_path / "src").mkdir()
    record = tmp_path / "docs" / "decisions.md"
    record.write_text("# Record\n\n## D1 Compatibility\n\n## D2 Paths\n", encoding="utf-8")
    (tmp_path / "src" / "module.py").write_text(
        f'"""Frozen wire format (D1), and a decision nobody wrote down ({unrecorded})."""\n',
        encoding="utf-8",
    )
    (tmp_path / "src" / "data.json").write_text('{"blob": "+D7/"}', encoding="utf-8")
    assert missing_entries(tmp_path, record) == {unrecorded: ["src/module.py:1"]}


def test_outside_references_are_caught(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "See ../shared" + "/spec, the partner-api" + "-v1 file and Issue" + " 12.\n",
        encoding="utf-8",
    )
    assert len(outside_references(tmp_path)) == 3
