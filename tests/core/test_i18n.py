"""French translation of the portal: pages switch language, and the catalogue is complete and compiled.

The .po file is read by a small parser below (no polib dependency); the .mo file is
read with its documented layout (GNU gettext manual, "The Format of GNU MO Files").
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from apps.catalogue.services import catalogue_load_seed

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"

# Apps and templates whose strings no longer move: every one of their msgids must be translated.
STABLE_SOURCES = (
    "apps/core/",
    "apps/catalogue/",
    "apps/docs/",
    "apps/portal/",
    "apps/teams/",
    "config/",
    "templates/base.html",
    "templates/portal/",
    "templates/catalogue/",
    "templates/teams/",
    "templates/docs/",
)

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|<[^>]+>")


@dataclass
class PoEntry:
    msgid: str
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def _unquote(text: str) -> str:
    # A .po string is a C string literal: only these escapes occur in practice.
    body = text.strip()[1:-1]
    return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def parse_po(path: Path) -> list[PoEntry]:
    """The active (non-obsolete) entries of a .po file, header included (msgid "")."""
    entries: list[PoEntry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        entry = PoEntry(msgid="")
        target: tuple[str, int] = ("msgid", 0)
        for line in lines:
            if line.startswith("#:"):
                entry.references.extend(line[2:].split())
            elif line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                _append(entry, target, _unquote(line))
            else:
                keyword, _, value = line.partition(" ")
                match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
                target = ("msgstr", int(match.group(1))) if match else (keyword, 0)
                if keyword == "msgstr":
                    target = ("msgstr", 0)
                _set(entry, target, _unquote(value))
        entries.append(entry)
    return entries


def _set(entry: PoEntry, target: tuple[str, int], value: str) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] = value
    else:
        setattr(entry, name, value)


def _append(entry: PoEntry, target: tuple[str, int], value: str) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] += value
    else:
        setattr(entry, name, (getattr(entry, name) or "") + value)


def parse_mo(path: Path) -> dict[str, str]:
    """Original -> translation, as stored in a GNU .mo file (plural forms joined by NUL)."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic == 0x950412DE else ">"
    _revision, count, originals_at, translations_at = struct.unpack(endian + "4I", data[4:20])
    catalogue = {}
    for index in range(count):
        o_len, o_off = struct.unpack(endian + "2I", data[originals_at + 8 * index : originals_at + 8 * index + 8])
        t_len, t_off = struct.unpack(endian + "2I", data[translations_at + 8 * index : translations_at + 8 * index + 8])
        original = data[o_off : o_off + o_len].decode("utf-8")
        catalogue[original] = data[t_off : t_off + t_len].decode("utf-8")
    return catalogue


def is_stable(entry: PoEntry) -> bool:
    return any(ref.startswith(STABLE_SOURCES) for ref in entry.references)


# --- the .po and .mo files -------------------------------------------------------------------------


def test_po_file_declares_french_with_french_plural_rule():
    header = parse_po(PO_FILE)[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert "Language: fr\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in header.msgstr[0]


def test_stable_apps_have_no_untranslated_or_fuzzy_entries():
    entries = [entry for entry in parse_po(PO_FILE)[1:] if is_stable(entry)]
    assert len(entries) > 400  # the parser found the stable apps' strings at all
    untranslated = [entry.msgid for entry in entries if not all(entry.msgstr.values())]
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    assert untranslated == []
    assert fuzzy == []


def test_translations_keep_every_placeholder_and_tag():
    broken = []
    for entry in parse_po(PO_FILE)[1:]:
        sources = [entry.msgid, entry.msgid_plural or entry.msgid]
        for index, text in entry.msgstr.items():
            if text and sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(sources[min(index, 1)])):
                broken.append((entry.msgid, text))
    assert broken == []


def test_compiled_mo_matches_the_po_file():
    # Catches a forgotten compilemessages: every translation in the .po must be in the
    # committed .mo, with the same text. (Comparing contents rather than mtimes, which a
    # fresh git checkout sets in arbitrary order.)
    assert MO_FILE.exists(), "run: make messages"
    compiled = parse_mo(MO_FILE)
    stale = []
    for entry in parse_po(PO_FILE)[1:]:
        if "fuzzy" in entry.flags or not all(entry.msgstr.values()):
            continue  # msgfmt leaves these out
        original = entry.key if entry.msgid_plural is None else f"{entry.key}\x00{entry.msgid_plural}"
        expected = "\x00".join(entry.msgstr[index] for index in sorted(entry.msgstr))
        if compiled.get(original) != expected:
            stale.append(entry.msgid)
    assert stale == [], "django.mo is older than django.po: run make messages"


def test_compiled_mo_is_not_older_than_the_po_file():
    # Same intent with file times; a two-second margin absorbs a fresh checkout, which
    # writes both files in the same instant but in no promised order.
    assert MO_FILE.stat().st_mtime >= PO_FILE.stat().st_mtime - 2


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_home_page_is_english_by_default(client):
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "European cloud: VPS, GPU and more" in html


@pytest.mark.django_db
def test_home_page_speaks_french_with_accept_language(client):
    catalogue_load_seed(actor=None)  # the heading counts the catalogue's families
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert "Cloud européen : VPS, GPU et bien plus" in html
    assert "7 familles de produits, une seule console" in html
    assert "European cloud: VPS, GPU and more" not in html


@pytest.mark.django_db
def test_pricing_page_speaks_french_with_plural_and_spec_labels(client):
    catalogue_load_seed(actor=None)
    html = client.get("/pricing/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "36 offres. Prix en euros HT." in html
    assert "Filtrer les offres" in html
    assert "<td>Illimité</td>" in html  # spec cells built in Python (apps/catalogue/rules/specs.py)
    assert "Prices in EUR excluding VAT" not in html


@pytest.mark.django_db
def test_docs_index_speaks_french_with_the_language_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get("/docs/").content.decode()
    assert "Guides de la console et de l'API VMCloud" in html
    assert "Rechercher dans la documentation" in html


@pytest.mark.django_db
def test_language_form_switches_the_site_to_french(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/pricing/"})
    assert response.status_code == 302
    assert response["Location"] == "/pricing/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    html = client.get("/").content.decode()
    assert "Cloud européen : VPS, GPU et bien plus" in html
    # The footer form offers the way back, labelled in each language's own name.
    assert '<option value="en" lang="en">English</option>' in html
