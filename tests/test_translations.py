"""The Danish catalogue is the one source of Danish: complete, nothing fuzzy, and compiled.

When a test here fails: run `make messages`, write the Danish for the new or fuzzy entries in
locale/da/LC_MESSAGES/django.po (and drop their `fuzzy` flag), then run `make messages` again.
"""

import shutil
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.utils import translation
from django.utils.functional import Promise

PO = Path(settings.BASE_DIR) / "locale" / "da" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# Where `make messages` looks for texts, and what it leaves out.
IGNORED = ["node_modules", ".venv", "tests"]


def catalogue(path: Path = PO) -> polib.POFile:
    return polib.pofile(str(path))


def key(entry: polib.POEntry) -> tuple[str | None, str, str | None]:
    return entry.msgctxt, entry.msgid, entry.msgid_plural or None


def lacking_danish(po: polib.POFile) -> list[str]:
    """Each entry without a usable Danish text, with why: untranslated, a plural form missing, or fuzzy."""
    plural_forms = int(po.metadata["Plural-Forms"].split("nplurals=")[1].split(";")[0])
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        name = repr(entry.msgid) if entry.msgctxt is None else f"{entry.msgctxt!r}: {entry.msgid!r}"
        if entry.fuzzy:
            problems.append(f"fuzzy (check the Danish, then remove the flag): {name}")
        elif entry.msgid_plural:
            missing = [n for n in range(plural_forms) if not entry.msgstr_plural.get(n)]
            if missing:
                problems.append(f"plural form(s) {missing} untranslated: {name}")
        elif not entry.msgstr:
            problems.append(f"untranslated: {name}")
    return problems


def test_every_entry_in_the_danish_catalogue_has_its_danish_text():
    po = catalogue()
    assert len(po) > 200
    assert po.metadata["Language"] == "da"
    assert not lacking_danish(po), "\n".join(lacking_danish(po))


def test_the_checker_sees_an_untranslated_a_fuzzy_and_a_half_translated_plural_entry():
    po = polib.POFile()
    po.metadata = {"Language": "da", "Plural-Forms": "nplurals=2; plural=(n != 1);"}
    po.append(polib.POEntry(msgid="Orders", msgstr=""))
    po.append(polib.POEntry(msgid="Invoices", msgstr="Fakturaer", flags=["fuzzy"]))
    po.append(
        polib.POEntry(msgid="%(n)s order", msgid_plural="%(n)s orders", msgstr_plural={0: "%(n)s bestilling", 1: ""})
    )
    po.append(polib.POEntry(msgid="Start", msgctxt="menu", msgstr="Start"))
    assert lacking_danish(po) == [
        "untranslated: 'Orders'",
        "fuzzy (check the Danish, then remove the flag): 'Invoices'",
        "plural form(s) [1] untranslated: '%(n)s order'",
    ]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (apt-get install gettext)")
def test_every_text_in_the_code_and_templates_is_in_the_catalogue(tmp_path, settings, monkeypatch):
    """makemessages, run as `make messages` runs it, adds nothing to the catalogue that lacks Danish.

    It runs in a copy of the project: makemessages writes to every `locale` folder it finds, and the
    real django.po must not change under a test (nor under the people editing it).
    """
    copy = tmp_path / "project"
    shutil.copytree(
        settings.BASE_DIR,
        copy,
        # Caches and run-time folders too: another test run may be writing them meanwhile (.ci/run runs two).
        ignore=shutil.ignore_patterns(
            *IGNORED, ".git", "__pycache__", "*.pyc", "*.mo", "*.sqlite3", "static*", ".*_cache", "private", "media"
        ),
    )
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["da"], no_obsolete=True, ignore_patterns=IGNORED, verbosity=0)
    refreshed = catalogue(copy / PO.relative_to(settings.BASE_DIR))
    known = {key(entry) for entry in catalogue() if not entry.obsolete}
    new = [entry.msgid for entry in refreshed if key(entry) not in known]
    assert not new, "texts not in django.po (run make messages and translate them):\n" + "\n".join(new)
    assert not lacking_danish(refreshed), "\n".join(lacking_danish(refreshed))


def test_the_compiled_catalogue_is_the_po_file():
    po = {key(entry): entry for entry in catalogue() if entry.translated()}
    mo = {key(entry): entry for entry in polib.mofile(str(MO)) if entry.msgid}
    stale = "locale/da .mo is stale: run make messages"
    assert mo.keys() == po.keys(), stale
    for k, entry in po.items():
        if entry.msgid_plural:
            assert mo[k].msgstr_plural == entry.msgstr_plural, f"{stale} ({entry.msgid!r})"
        else:
            assert mo[k].msgstr == entry.msgstr, f"{stale} ({entry.msgid!r})"


def test_the_running_app_speaks_the_catalogue_plurals_and_contexts_included():
    with translation.override("da"):
        for entry in catalogue():
            if not entry.translated():
                continue
            if entry.msgid_plural:
                for n, form in ((1, 0), (2, 1)):
                    text = (
                        translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                        if entry.msgctxt
                        else translation.ngettext(entry.msgid, entry.msgid_plural, n)
                    )
                    assert text == entry.msgstr_plural[form], entry.msgid
            elif entry.msgctxt:
                assert translation.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, entry.msgid
            else:
                assert translation.gettext(entry.msgid) == entry.msgstr, entry.msgid


def project_apps():
    base = Path(settings.BASE_DIR)
    return [
        app
        for app in apps.get_app_configs()
        if Path(app.path).is_relative_to(base) and not Path(app.path).is_relative_to(base / ".venv")
    ]


def test_every_app_and_model_name_is_translated():
    translated = {entry.msgid for entry in catalogue() if entry.translated() and entry.msgctxt is None}
    untranslated = []
    for app in project_apps():
        names = [(app.label, app.verbose_name)]
        for model in app.get_models():
            # Without an explicit plural Django appends "s" to the (Danish) singular.
            assert "verbose_name_plural" in model._meta.original_attrs, f"{model.__name__} has no verbose_name_plural"
            names += [(model.__name__, model._meta.verbose_name), (model.__name__, model._meta.verbose_name_plural)]
        for owner, name in names:
            with translation.override("en"):
                english = str(name)
            if not isinstance(name, Promise) or english not in translated:
                untranslated.append(f"{owner}: {english!r}")
    assert not untranslated, "\n".join(untranslated)
