"""The developer docs under docs/dev/ and the script that points comments at them (issue 12).

Every anchor a comment cites must exist, every section of the old outside
notes must have a home, and the rewrite must be exact and idempotent.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_DOCS = ROOT / "docs" / "dev"
CITATION = re.compile(r"docs/dev/(?P<page>[\w-]+\.md)(?P<anchors>(?:#[\w-]+(?:,? (?:and )?#[\w-]+)*)?)")
SCANNED = ("apps", "config", "tests", "benchmarks", "scripts", "docs", "README.md", "CONTRIBUTING.md")

# The outside names, assembled so that this file is not itself a citation.
NOTES = "NOTES" + ".md"
WAVE2 = "NOTES-wave2" + ".md"
STYLE = "STYLE" + ".md"
DEPS = "DEPENDENCIES" + ".md"


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "dev" / "rewrite_citations.py"
    spec = importlib.util.spec_from_file_location("rewrite_citations", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["rewrite_citations"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _load_script()


def _anchors(page: str) -> set[str]:
    text = (DEV_DOCS / page).read_text(encoding="utf-8")
    return set(re.findall(r'<a id="([\w-]+)"></a>', text))


def _files() -> list[Path]:
    found: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(p for p in path.rglob("*") if p.suffix in {".py", ".md", ".txt", ".toml", ".html", ".yaml"})
    return found


def test_every_mapped_section_has_its_anchor_in_the_docs(script: ModuleType) -> None:
    proxmox = _anchors("proxmox-behaviour.md")
    mapped = {a for a in script.PROXMOX_SECTIONS.values() if a} | set(script.PROXMOX_ITEMS.values())
    assert mapped - proxmox == set()
    assert set(script.STYLE_RULES.values()) - _anchors("style.md") == set()
    assert set(script.DEPENDENCY_PITFALLS.values()) - _anchors("dependencies.md") == set()


def test_every_section_of_the_old_notes_is_mapped(script: ModuleType) -> None:
    expected = (
        {str(n) for n in range(14)}
        | {f"1.{n}" for n in range(1, 4)}
        | {f"2.{n}" for n in range(1, 5)}
        | {f"4.{n}" for n in range(1, 6)}
        | {f"5.{n}" for n in range(1, 18)}
        | {f"8.{n}" for n in range(1, 6)}
        | {f"10.{n}" for n in range(1, 4)}
        | {f"W{n}" for n in range(1, 9)}
        | {f"W1.{n}" for n in range(1, 9)}
        | {f"W2.{n}" for n in range(1, 6)}
        | {f"W3.{n}" for n in range(1, 6)}
    )
    assert expected - set(script.PROXMOX_SECTIONS) == set()
    assert set(script.STYLE_RULES) == {str(n) for n in range(1, 12)}
    assert set(script.DEPENDENCY_PITFALLS) == {str(n) for n in range(1, 14)}


def test_every_docs_dev_anchor_cited_in_the_repository_exists() -> None:
    known = {page.name: _anchors(page.name) for page in DEV_DOCS.glob("*.md")}
    missing = []
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in CITATION.finditer(text):
            page = match.group("page")
            if page not in known:
                missing.append(f"{path.relative_to(ROOT)}: {match.group(0)} (no such page)")
                continue
            for anchor in re.findall(r"#([\w-]+)", match.group("anchors")):
                if anchor not in known[page]:
                    missing.append(f"{path.relative_to(ROOT)}: docs/dev/{page}#{anchor}")
    assert missing == []


def test_internal_links_of_the_dev_docs_resolve() -> None:
    for page in DEV_DOCS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        links = set(re.findall(r"\]\(#([\w-]+)\)", text))
        assert links - _anchors(page.name) == set(), page.name


def _rewrite(script: ModuleType, tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = script.Report(changed=[], warnings=[], python_files=[])
    script.rewrite_file(path, write=True, report=report)
    return path.read_text(encoding="utf-8")


def test_rewrite_maps_sections_items_chains_and_bare_references(script: ModuleType, tmp_path: Path) -> None:
    source = (
        '"""Driver rules, relying on ``shared/proxmox/' + NOTES + "``:\n"
        "\n"
        "* booleans as 1/0 (§1.2 quirk 5, §3);\n"
        "* retried tasks resume (" + STYLE + " rule 6).\n"
        '"""\n'
        "\n"
        "# " + NOTES + " §7 point 2: wait for the lock to go.\n"
        "X = 1  # " + WAVE2 + " §W6\n"
        "# Redis redelivers (" + DEPS + " pitfall 12), " + DEPS + ", 3.\n"
        "# RFC 4291 §2.6.1 stays as it is.\n"
    )
    result = _rewrite(script, tmp_path, "sample.py", source)
    assert result == (
        '"""Driver rules, relying on ``docs/dev/proxmox-behaviour.md``:\n'
        "\n"
        "* booleans as 1/0 (docs/dev/proxmox-behaviour.md#booleans, #proxmoxer);\n"
        "* retried tasks resume (docs/dev/style.md#celery-tasks).\n"
        '"""\n'
        "\n"
        "# docs/dev/proxmox-behaviour.md#lock-rule-wait-unlocked: wait for the lock to go.\n"
        "X = 1  # docs/dev/proxmox-behaviour.md#lock-placement\n"
        "# Redis redelivers (docs/dev/dependencies.md#celery-redis-redelivery), "
        "docs/dev/dependencies.md#dj-stripe-api-version.\n"
        "# RFC 4291 §2.6.1 stays as it is.\n"
    )
    assert _rewrite(script, tmp_path, "sample.py", result) == result  # idempotent


def test_bare_sections_of_another_document_are_left_alone(script: ModuleType, tmp_path: Path) -> None:
    source = "# GPU models (§2.2, §3) from catalogue.md. PCI ids: " + NOTES + " §5.13.\n"
    result = _rewrite(script, tmp_path, "seed.py", source)
    assert result == "# GPU models (§2.2, §3) from catalogue.md. PCI ids: docs/dev/proxmox-behaviour.md#pci-hardware.\n"


def test_rewrite_wraps_lines_it_makes_too_long(script: ModuleType, tmp_path: Path) -> None:
    comment = "# " + "word " * 18 + "(" + NOTES + " §8.3, §8.4).\n"
    trailing = "VALUE = 1  # " + "word " * 18 + "(" + NOTES + " §5.9)\n"
    result = _rewrite(script, tmp_path, "long.py", comment + trailing)
    lines = result.splitlines()
    assert all(len(line) <= 120 for line in lines)
    assert lines[-1] == "VALUE = 1"
    assert "docs/dev/proxmox-behaviour.md#gpu-allocation, #gpu-start-errors" in " ".join(lines)
    compile(result, "long.py", "exec")


def test_check_mode_fails_while_a_citation_remains(script: ModuleType, tmp_path: Path, capsys) -> None:
    cited = tmp_path / "cited.py"
    cited.write_text("# see " + NOTES + " §9\n", encoding="utf-8")
    assert script.check([str(cited)]) == 1
    cited.write_text("# see docs/dev/proxmox-behaviour.md#vmid-allocation\n", encoding="utf-8")
    assert script.check([str(cited)]) == 0
    capsys.readouterr()


def test_no_file_of_the_repository_cites_a_file_outside_it(script: ModuleType, capsys) -> None:
    # Issue 12, "the proof is mechanical": neither the old outside notes nor the seed catalogue's
    # file are cited anywhere; docs/dev/ holds what the code relies on, in the project's own words.
    paths = [str(ROOT / name) for name in script.DEFAULT_PATHS if (ROOT / name).exists()]
    status = script.check(paths)
    assert status == 0, capsys.readouterr().out


def test_check_mode_fails_on_a_citation_of_the_seed_catalogue(script: ModuleType, tmp_path: Path, capsys) -> None:
    cited = tmp_path / "seeded.py"
    cited.write_text('"""Seeded from ../shared/' + "seed/catalogue-vmcloud" + '.md."""\n', encoding="utf-8")
    assert script.check([str(cited)]) == 1
    cited.write_text('"""Seeded from VMCloud\'s catalogue (docs/dev/catalogue.md#seed)."""\n', encoding="utf-8")
    assert script.check([str(cited)]) == 0
    capsys.readouterr()
