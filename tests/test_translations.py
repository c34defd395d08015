"""The Danish catalogue is complete and its compiled .mo matches the .po (run `make messages` if not)."""

import json
from pathlib import Path

from django.utils import translation

PO = Path(__file__).resolve().parent.parent / "locale" / "da" / "LC_MESSAGES" / "django.po"


def po_entries():
    entries, msgid, msgstr, current = [], None, None, None
    for line in PO.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("msgid "):
            msgid, current = [line[6:]], "id"
        elif line.startswith("msgstr "):
            msgstr, current = [line[7:]], "str"
        elif line.startswith('"') and current:
            (msgid if current == "id" else msgstr).append(line)
        elif not line.strip() and msgid is not None:
            entries.append(("".join(map(json.loads, msgid)), "".join(map(json.loads, msgstr))))
            msgid, msgstr, current = None, None, None
    return [(i, s) for i, s in entries if i]


def test_every_text_has_a_danish_translation_and_the_compiled_catalogue_has_it():
    entries = po_entries()
    assert len(entries) > 200
    with translation.override("da"):
        for msgid, msgstr in entries:
            assert msgstr, f"no Danish text for {msgid!r}"
            assert translation.gettext(msgid) == msgstr, f"locale/da .mo is stale for {msgid!r}: run make messages"
