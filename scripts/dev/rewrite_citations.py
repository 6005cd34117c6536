#!/usr/bin/env python3
"""Point comments at the developer docs in ``docs/dev/`` instead of files outside the repository.

Early code cited four research files that live beside the checkout, not in it:
the two Proxmox notes, the style guide and the dependency notes. Their content
now lives, in the project's own words, in

* ``docs/dev/proxmox-behaviour.md`` (one anchor per cited section),
* ``docs/dev/style.md`` (one anchor per numbered rule),
* ``docs/dev/dependencies.md`` (one anchor per numbered pitfall).

This script rewrites every such citation to the page and anchor that replaced
the cited section, for example ``(<notes> §7 point 2)`` becomes
``(docs/dev/proxmox-behaviour.md#lock-rule-wait-unlocked)``, and
``(§8.3)`` later in the same comment, docstring or paragraph becomes
``(docs/dev/proxmox-behaviour.md#gpu-allocation)``. In Python files a comment or
docstring line that grows past the line length is wrapped.

Usage (from the repository root)::

    python scripts/dev/rewrite_citations.py --dry-run   # print what would change
    python scripts/dev/rewrite_citations.py             # rewrite in place, print each change
    python scripts/dev/rewrite_citations.py --check     # exit 1 if any outside citation remains

Paths may be given after the options; the default is the whole repository
(apps, config, tests, benchmarks, scripts, templates and the top-level files).
Running it twice changes nothing the second time.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import shutil
import subprocess
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINE_LENGTH = 120  # pyproject.toml [tool.ruff] line-length

PROXMOX_PAGE = "docs/dev/proxmox-behaviour.md"
STYLE_PAGE = "docs/dev/style.md"
DEPS_PAGE = "docs/dev/dependencies.md"

# The outside file names, assembled so that this script does not match the
# searches it exists to satisfy.
_MD = r"\.md"
_NOTES = "NOTES" + r"(?:-wave2)?"
_STYLE = "STYLE" + _MD
_DEPS = "DEPENDENCIES" + _MD
_PATH_PREFIX = r"(?:\.\./)?(?:shared/)?(?:proxmox/)?"

# Section of the Proxmox notes (or of their second wave, "W…") -> anchor in PROXMOX_PAGE.
PROXMOX_SECTIONS: dict[str, str] = {
    "0": "",
    "1": "api-schema",
    "1.1": "schema-source",
    "1.2": "schema-dialect",
    "1.3": "pve-versions",
    "2": "wire-protocol",
    "2.1": "authentication",
    "2.2": "request-encoding",
    "2.3": "error-responses",
    "2.4": "validation-messages",
    "3": "proxmoxer",
    "4": "tasks",
    "4.1": "upid",
    "4.2": "task-types",
    "4.3": "task-status",
    "4.4": "task-log",
    "4.5": "task-lists",
    "5": "endpoints",
    "5.1": "discovery",
    "5.2": "nextid",
    "5.3": "clone",
    "5.4": "vm-config",
    "5.5": "resize",
    "5.6": "power",
    "5.7": "vm-status",
    "5.8": "snapshots",
    "5.9": "destroy",
    "5.10": "metrics",
    "5.11": "console",
    "5.12": "guest-agent",
    "5.13": "pci-hardware",
    "5.14": "pci-mappings",
    "5.15": "firewall-basics",
    "5.16": "pools",
    "5.17": "ha",
    "6": "sync-or-async",
    "7": "locks",
    "8": "gpu-passthrough",
    "8.1": "hostpci",
    "8.2": "gpu-templates",
    "8.3": "gpu-allocation",
    "8.4": "gpu-start-errors",
    "8.5": "gpu-restrictions",
    "9": "vmid-allocation",
    "10": "simulator",
    "10.1": "simulator-design",
    "10.2": "simulator-endpoints",
    "10.3": "simulator-in-tests",
    "11": "provisioning-sequence",
    "12": "schema-source",
    "13": "sources",
    "W1": "volumes",
    "W1.1": "volume-allocation",
    "W1.2": "volume-ownership",
    "W1.3": "hotplug",
    "W1.4": "detach-disk",
    "W1.5": "reassign-disk",
    "W1.6": "destroy-volumes",
    "W1.7": "detached-volumes",
    "W1.8": "io-limits",
    "W2": "sdn",
    "W2.1": "sdn-objects",
    "W2.2": "sdn-zones",
    "W2.3": "sdn-ipam",
    "W2.4": "sdn-apply",
    "W2.5": "sdn-nic",
    "W3": "firewall",
    "W3.1": "firewall-switches",
    "W3.2": "firewall-options",
    "W3.3": "firewall-rules",
    "W3.4": "firewall-ipsets",
    "W3.5": "ipfilter",
    "W4": "guest-agent-calls",
    "W5": "efi",
    "W6": "lock-placement",
    "W7": "status-unknown",
    "W8": "sources",
}

# "§1.2 quirk N" and "§7 point N" name numbered items inside a section.
PROXMOX_ITEMS: dict[tuple[str, str, str], str] = {
    ("1.2", "quirk", "1"): "schema-dialect",
    ("1.2", "quirk", "2"): "indexed-options",
    ("1.2", "quirk", "3"): "property-strings",
    ("1.2", "quirk", "4"): "regex-patterns",
    ("1.2", "quirk", "5"): "booleans",
    ("1.2", "quirk", "6"): "unknown-parameters",
    ("1.2", "quirk", "7"): "list-parameters",
    ("1.2", "quirk", "8"): "return-types",
    ("7", "point", "1"): "lock-rule-idempotent",
    ("7", "point", "2"): "lock-rule-wait-unlocked",
    ("7", "point", "3"): "lock-rule-retry",
    ("7", "point", "4"): "lock-rule-already-done",
    ("7", "point", "5"): "lock-rule-digest",
}

# Numbered rules of the style guide -> anchor in STYLE_PAGE.
STYLE_RULES: dict[str, str] = {
    "1": "services",
    "2": "selectors",
    "3": "rbac",
    "4": "apis",
    "5": "portal-views",
    "6": "celery-tasks",
    "7": "external-systems",
    "8": "settings",
    "9": "tests",
    "10": "code-style",
    "11": "architecture-map",
}

# Numbered pitfalls of the dependency notes -> anchor in DEPS_PAGE.
DEPENDENCY_PITFALLS: dict[str, str] = {
    "1": "slow-migrations",
    "2": "lxml-xmlsec",
    "3": "dj-stripe-api-version",
    "4": "no-stripe-mock",
    "5": "allauth-saml-tests",
    "6": "pysaml2-test-idp",
    "7": "allauth-mfa-reauth",
    "8": "axes-with-allauth",
    "9": "fernet-fields",
    "10": "spectacular-w001",
    "11": "schemathesis",
    "12": "celery-redis-redelivery",
    "13": "drf-throttles",
}

# Whitespace that may run onto the next line of the same comment or docstring.
_WS = r"(?:[ \t]*\n[ \t]*(?:\#[ \t]*)?|[ \t]+)"
_ITEM = r"(?:,?" + _WS + r"(?P<kind>quirk|point)" + _WS + r"(?P<num>\d+)\b)?"
_REF = r"§[ \t]?(?P<sec>W?\d+(?:\.\d+)?)\b" + _ITEM
# Right after the file name the "§" may be missing before a second-wave section ("W6").
_HEAD_REF = r"(?:§[ \t]?|(?=W\d))(?P<sec>W?\d+(?:\.\d+)?)\b" + _ITEM
REF_RE = re.compile(_REF)
# The notes: a path-qualified name with ".md", or the bare name directly followed by a section.
NOTES_RE = re.compile(
    r"(?<![\w/.-])" + _PATH_PREFIX + _NOTES + r"(?:(?P<md>" + _MD + r")|(?=" + _WS + r"?§))"
    r"(?:,?" + _WS + r"?" + _HEAD_REF + r")?"
)
STYLE_RE = re.compile(r"(?<![\w/.-])" + _PATH_PREFIX + _STYLE + r"(?:,?" + _WS + r"rule" + _WS + r"(?P<num>\d+)\b)?")
DEPS_RE = re.compile(
    r"(?<![\w/.-])" + _PATH_PREFIX + _DEPS + r"(?:,?" + _WS + r"(?:pitfall" + _WS + r")?(?P<num>\d+)\b)?"
)
# Between two sections of one citation: an optional "(label)", then "," or "and".
CHAIN_RE = re.compile(r"(?:" + _WS + r"?\([^()\n]{1,40}\))?(?:," + _WS + r"?|" + _WS + r"and" + _WS + r")(?=§)")
BARE_REF_RE = re.compile(r"(?<![\w#])" + _REF)
# A document with numbered "§" sections: a later bare "§" belongs to the nearest one before it.
# (The style guide and the dependency notes number rules and pitfalls, not sections;
# source files such as ``retry.go`` have no sections at all.)
DOC_NAME_RE = re.compile(r"\bRFC[ \t]?\d+|(?<![\w/.-])" + _PATH_PREFIX + _NOTES + r"\b|[\w./-]+\.(?:md|adoc|rst|txt)\b")
_NOT_SECTIONED = re.compile(r"(?:^|/)(?:" + _STYLE + "|" + _DEPS + r")$|^docs/dev/")
OUTSIDE_RE = re.compile(_NOTES + _MD + "|" + _STYLE + "|" + _DEPS + r"|\b" + _NOTES + r"[ \t]*§")
OTHER_OUTSIDE_RE = re.compile(r"shared/seed/|catalogue-vmcloud" + _MD)

DEFAULT_PATHS = (
    "apps",
    "config",
    "tests",
    "benchmarks",
    "scripts",
    "templates",
    "docs",
    ".ci",
    "Makefile",
    "README.md",
    "CONTRIBUTING.md",
    "pyproject.toml",
    "requirements",
    ".importlinter",
    ".env.example",
)
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".html", ".sh", ".js", ".json"}
TEXT_NAMES = {"Makefile", ".importlinter", ".env.example", "run"}
SKIP_DIRS = {".git", ".venv", "node_modules", "vendor", "locale", "__pycache__", "var"}


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    new: str


@dataclass
class Report:
    changed: list[str]
    warnings: list[str]
    python_files: list[Path]


def proxmox_anchor(sec: str, kind: str | None = None, num: str | None = None) -> tuple[str, bool]:
    """The anchor for a section (and item) of the Proxmox notes; False when only a parent section matched."""
    if kind and num and (sec, kind, num) in PROXMOX_ITEMS:
        return PROXMOX_ITEMS[(sec, kind, num)], True
    if sec in PROXMOX_SECTIONS:
        return PROXMOX_SECTIONS[sec], kind is None
    parent = sec.split(".")[0]
    return PROXMOX_SECTIONS.get(parent, ""), False


def _proxmox_link(match: re.Match[str], *, short: bool) -> tuple[str, str | None]:
    """The page and anchor (or only ``#<anchor>`` inside a chain) for one section reference."""
    sec = match.group("sec")
    anchor, exact = proxmox_anchor(sec, match.group("kind"), match.group("num"))
    link = (f"#{anchor}" if anchor else PROXMOX_PAGE) if short else PROXMOX_PAGE + (f"#{anchor}" if anchor else "")
    warning = None if exact else f"§{sec} {match.group('kind') or ''} {match.group('num') or ''} mapped to #{anchor}"
    return link, warning


def _chain(text: str, pos: int, edits: list[Edit], warnings: list[str], end: int) -> int:
    """Rewrite the ``, §x`` / ``and §y`` references that continue a citation; return where the chain ends."""
    while True:
        sep = CHAIN_RE.match(text, pos, end)
        if not sep:
            return pos
        ref = REF_RE.match(text, sep.end(), end)
        if not ref:
            return pos
        link, warning = _proxmox_link(ref, short=True)
        edits.append(Edit(ref.start(), ref.end(), link))
        if warning:
            warnings.append(warning)
        pos = ref.end()


def _blocks(path: Path, text: str) -> list[tuple[int, int]]:
    """Spans of comments and strings (Python) or paragraphs (other files): a bare "§" is read inside one."""
    if path.suffix != ".py":
        paragraphs: list[tuple[int, int]] = []
        start = 0
        for blank in re.finditer(r"\n[ \t]*\n", text):
            paragraphs.append((start, blank.start()))
            start = blank.end()
        paragraphs.append((start, len(text)))
        return paragraphs
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))

    def at(row: int, col: int) -> int:
        return offsets[row - 1] + col

    spans: list[tuple[int, int]] = []
    last_comment_row = -2
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                start, end = at(*tok.start), at(*tok.end)
                if spans and tok.start[0] == last_comment_row + 1 and text[spans[-1][1] : start].strip() == "":
                    spans[-1] = (spans[-1][0], end)
                else:
                    spans.append((start, end))
                last_comment_row = tok.start[0]
            elif tok.type == tokenize.STRING:
                spans.append((at(*tok.start), at(*tok.end)))
    except (tokenize.TokenError, SyntaxError):
        return [(0, len(text))]
    return spans


def plan_edits(path: Path, text: str, warnings: list[str]) -> list[Edit]:
    """Every replacement for one file, computed on the original text."""
    edits: list[Edit] = []
    claimed: list[tuple[int, int]] = []

    for match in NOTES_RE.finditer(text):
        if match.group("md") is None and match.group("sec") is None:
            continue
        if match.group("sec") is None:
            edits.append(Edit(match.start(), match.end(), PROXMOX_PAGE))
            claimed.append((match.start(), match.end()))
            continue
        link, warning = _proxmox_link(match, short=False)
        edits.append(Edit(match.start(), match.end(), link))
        if warning:
            warnings.append(warning)
        chain_end = _chain(text, match.end(), edits, warnings, len(text))
        claimed.append((match.start(), chain_end))

    for regex, page, table in ((STYLE_RE, STYLE_PAGE, STYLE_RULES), (DEPS_RE, DEPS_PAGE, DEPENDENCY_PITFALLS)):
        for match in regex.finditer(text):
            num = match.group("num")
            if num and num in table:
                edits.append(Edit(match.start(), match.end(), f"{page}#{table[num]}"))
            else:
                # Only the file name: keep whatever followed it (an unknown number stays as text).
                name_end = match.start() + len(re.match(_PATH_PREFIX + r"\w+" + _MD, text[match.start() :]).group(0))  # type: ignore[union-attr]
                edits.append(Edit(match.start(), name_end, page))
                if num:
                    warnings.append(f"{page}: no anchor for number {num}")
            claimed.append((match.start(), match.end()))

    # Bare "§x.y" continuing a citation of the notes inside the same comment, docstring or paragraph.
    cites_notes = any(e.new.startswith(PROXMOX_PAGE) for e in edits)
    if cites_notes:
        other_docs = {
            m.group(0)
            for m in re.finditer(r"[\w./-]+" + _MD, text)
            if not NOTES_RE.fullmatch(m.group(0)) and not _NOT_SECTIONED.search(m.group(0))
        }
        whole_file_is_notes = not other_docs
        for start, end in _blocks(path, text):
            block_edits = _bare_refs(text, start, end, claimed, whole_file_is_notes, edits, warnings)
            claimed.extend(block_edits)
    edits.sort(key=lambda e: e.start)
    return edits


def _bare_refs(
    text: str,
    start: int,
    end: int,
    claimed: list[tuple[int, int]],
    whole_file_is_notes: bool,
    edits: list[Edit],
    warnings: list[str],
) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = start
    while True:
        ref = BARE_REF_RE.search(text, pos, end)
        if not ref:
            return spans
        pos = ref.end()
        if any(a <= ref.start() < b for a, b in claimed + spans):
            continue
        names = [m for m in DOC_NAME_RE.finditer(text, start, ref.start()) if not _NOT_SECTIONED.search(m.group(0))]
        owner = names[-1].group(0) if names else None
        belongs = (owner is not None and re.search(_NOTES, owner) is not None and not owner.startswith("docs/")) or (
            owner is None and whole_file_is_notes
        )
        if not belongs and not ref.group("sec").startswith("W"):
            continue
        link, warning = _proxmox_link(ref, short=False)
        edits.append(Edit(ref.start(), ref.end(), link))
        if warning:
            warnings.append(warning)
        chain_end = _chain(text, ref.end(), edits, warnings, end)
        spans.append((ref.start(), chain_end))
        pos = chain_end


def apply_edits(text: str, edits: list[Edit]) -> str:
    out, pos = [], 0
    for edit in edits:
        if edit.start < pos:
            continue  # overlapping match: the first one wins
        out.append(text[pos : edit.start])
        out.append(edit.new)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


@dataclass
class _Line:
    """What a line of Python holds, as far as wrapping is concerned."""

    kind: str  # "comment" (the line has a comment), "doc" (inside a string statement) or "" (code)
    comment_col: int = -1  # where the comment starts
    strings: tuple[tuple[int, int, bool], ...] = ()  # one-line plain string literals: (start, end, inside brackets)
    touched: bool = False


def _analyse(text: str, touched: set[int]) -> list[_Line]:
    """One ``_Line`` per line of ``text`` (tokenize for comments and strings, ast for docstrings)."""
    count = text.count("\n") + 1
    comment_col: dict[int, int] = {}
    strings: dict[int, list[tuple[int, int, bool]]] = {}
    depth = 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif tok.type == tokenize.COMMENT:
            comment_col[tok.start[0]] = tok.start[1]
        elif (
            tok.type == tokenize.STRING
            and tok.start[0] == tok.end[0]
            and tok.string[:1] in "\"'"
            and not tok.string.startswith(('"""', "'''"))
        ):
            strings.setdefault(tok.start[0], []).append((tok.start[1], tok.end[1], depth > 0))
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            and node.end_lineno is not None
        ):
            docstrings.update(range(node.lineno, node.end_lineno + 1))
    return [
        _Line(
            kind="comment" if n in comment_col else "doc" if n in docstrings else "",
            comment_col=comment_col.get(n, -1),
            strings=tuple(strings.get(n, ())),
            touched=n in touched,
        )
        for n in range(1, count + 1)
    ]


_BULLET = re.compile(r"[*\-] |\d+\. ")


def wrap_long_lines(path: Path, text: str, touched_lines: set[int], warnings: list[str]) -> str:
    """Wrap the lines the rewrite pushed past LINE_LENGTH (Python files only).

    * A comment or docstring line: the overflow goes to the start of the next
      line when that line continues the same comment or paragraph, otherwise
      onto a new line with the same prefix.
    * A comment after code: it moves onto its own line above the code.
    * A plain string literal inside brackets: it is split into two literals
      that Python concatenates.
    """
    if path.suffix != ".py":
        return text
    try:
        info = _analyse(text, touched_lines)
    except (SyntaxError, tokenize.TokenError):
        return text
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line, meta = lines[i], info[i]
        if len(line) <= LINE_LENGTH or not meta.touched:
            i += 1
            continue
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if meta.kind == "comment" and meta.comment_col > len(indent):
            # "code  # comment": the comment goes above the code, at the code's indentation.
            comment = line[meta.comment_col :].lstrip("#").strip()
            lines[i] = line[: meta.comment_col].rstrip()
            lines.insert(i, indent + "# " + comment)
            info[i] = _Line(kind="", strings=meta.strings, touched=False)
            info.insert(i, _Line(kind="comment", comment_col=len(indent), touched=True))
            continue
        if meta.kind == "comment":
            body = stripped[1:].lstrip()
            cont = indent + "# " + ("  " if _BULLET.match(body) else "")
            floor = len(indent) + 2
        elif meta.kind == "doc":
            body = stripped[3:] if stripped.startswith(('"""', "'''")) else stripped
            cont = indent + ("  " if _BULLET.match(body) else "")
            floor = len(indent) + 4
        else:
            if not _split_string(lines, info, i):
                warnings.append(f"line {i + 1} is longer than {LINE_LENGTH} characters: wrap it by hand")
            i += 1
            continue
        cut = line.rfind(" ", floor, LINE_LENGTH + 1)
        if cut <= floor:
            warnings.append(f"line {i + 1} is longer than {LINE_LENGTH} characters: wrap it by hand")
            i += 1
            continue
        head, rest = line[:cut].rstrip(), line[cut + 1 :]
        lines[i] = head
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is not None and info[i + 1].kind == meta.kind and _continues(nxt, cont):
            lines[i + 1] = cont + rest + " " + nxt[len(cont) :]
            info[i + 1].touched = True
        else:
            lines.insert(i + 1, cont + rest)
            info.insert(i + 1, _Line(kind=meta.kind, comment_col=len(indent), touched=True))
        i += 1
    return "\n".join(lines)


def _split_string(lines: list[str], info: list[_Line], i: int) -> bool:
    """Split the plain string literal that crosses LINE_LENGTH on line ``i`` into two; False if impossible."""
    line = lines[i]
    for start, end, in_brackets in info[i].strings:
        if not (start < LINE_LENGTH < end and in_brackets):
            continue
        quote = line[start]
        cut = line.rfind(" ", start + 1, LINE_LENGTH - 1)
        if cut <= start + 1:
            return False
        lines[i] = line[: cut + 1] + quote
        lines.insert(i + 1, " " * start + quote + line[cut + 1 :])
        shift = start - (cut + 1) + 1
        rest = tuple((s + shift, e + shift, b) for s, e, b in info[i].strings if s >= end)
        info.insert(i + 1, _Line(kind="", strings=((start, end + shift, True), *rest), touched=True))
        return True
    return False


def _continues(line: str, prefix: str) -> bool:
    """True when ``line`` is the next line of the same comment or docstring paragraph, with ``prefix``."""
    if not line.startswith(prefix):
        return False
    body = line[len(prefix) :]
    return (
        bool(body.strip())
        and not body[0].isspace()
        and not _BULLET.match(body)
        and not body.startswith(('"""', "'''", "#", ">>>", "::"))
    )


def iter_files(paths: Iterable[str]) -> Iterator[Path]:
    for name in paths:
        path = (ROOT / name) if not Path(name).is_absolute() else Path(name)
        if path.is_file():
            yield path
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if any(part in SKIP_DIRS for part in child.relative_to(ROOT).parts) or not child.is_file():
                    continue
                if child.suffix in TEXT_SUFFIXES or child.name in TEXT_NAMES:
                    yield child


def rewrite_file(path: Path, *, write: bool, report: Report) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return
    warnings: list[str] = []
    edits = plan_edits(path, text, warnings)
    if not edits:
        return
    new = apply_edits(text, edits)
    touched = {new.count("\n", 0, _new_offset(text, edits, e)) + 1 for e in edits}
    new = wrap_long_lines(path, new, touched, warnings)
    if new == text:
        return
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for edit in edits:
        line = text.count("\n", 0, edit.start) + 1
        old = " ".join(text[edit.start : edit.end].split())
        report.changed.append(f"{rel}:{line}: {old} -> {edit.new}")
    report.warnings.extend(f"{rel}: {warning}" for warning in warnings)
    if write:
        path.write_text(new, encoding="utf-8")
        if path.suffix == ".py":
            report.python_files.append(path)


def _new_offset(text: str, edits: list[Edit], target: Edit) -> int:
    """Where ``target`` starts in the rewritten text."""
    shift = 0
    for edit in edits:
        if edit is target:
            return edit.start + shift
        shift += len(edit.new) - (edit.end - edit.start)
    return target.start + shift


def check(paths: Iterable[str]) -> int:
    remaining, others = [], []
    for path in iter_files(paths):
        if path.resolve() == Path(__file__).resolve():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE_RE.search(line):
                remaining.append(f"{rel}:{number}: {line.strip()}")
            elif OTHER_OUTSIDE_RE.search(line):
                others.append(f"{rel}:{number}: {line.strip()}")
    for line in remaining:
        print(line)
    if others:
        # Not rewritten automatically: cite docs/dev/catalogue.md (#seed, #fleet, #envelopes) by hand.
        print(f"{len(others)} line(s) name the seed catalogue outside the repository: cite docs/dev/catalogue.md")
        for line in others:
            print(f"  {line}")
        return 1
    if remaining:
        print(f"{len(remaining)} citation(s) of files outside the repository remain; run without --check.")
        return 1
    print("No citation of the outside notes, style guide or dependency notes remains.")
    return 0


def format_python(paths: list[Path]) -> None:
    """``ruff format`` the Python files this script rewrote (they were formatted before; wrapping may differ)."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    names = [str(path) for path in paths]
    if ruff is None:
        print("ruff not found: run `ruff format` on the files above.", file=sys.stderr)
        return
    result = subprocess.run([ruff, "format", "--quiet", *names], cwd=ROOT, check=False)
    if result.returncode:
        print("ruff format failed on the rewritten files; see above.", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if an outside citation remains; change nothing")
    mode.add_argument("--dry-run", action="store_true", help="print the changes without writing them")
    parser.add_argument("paths", nargs="*", default=list(DEFAULT_PATHS))
    args = parser.parse_args(argv)
    if args.check:
        return check(args.paths)
    report = Report(changed=[], warnings=[], python_files=[])
    for path in iter_files(args.paths):
        if path.resolve() == Path(__file__).resolve():
            continue
        rewrite_file(path, write=not args.dry_run, report=report)
    for line in report.changed:
        print(line)
    for line in report.warnings:
        print(f"warning: {line}", file=sys.stderr)
    if report.python_files:
        format_python(report.python_files)
    verb = "would change" if args.dry_run else "changed"
    print(f"{len(report.changed)} citation(s) {verb}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
