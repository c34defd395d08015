"""The price rules are one enumeration owned by billing (billing.pricing.Rule): every rule the pricing core can
write has the addendum's wording or is explicitly wordless, the stored codes never change, and a rule nobody
knows fails loudly instead of being printed or booked as something else."""

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from billing import addendum_wording, pricing
from billing.pricing import QuoteLine, Rule

# The codes frozen quotes (Addendum.quote) and charges (Charge.rule) hold today: the enumeration's values must
# stay exactly these, or stored data would no longer read.
STORED_CODES = {
    "licence_start",
    "licence_monthly",
    "licence_monthly_named",
    "licence_serves_system",
    "licence_additional_system",
    "already_licensed",
    "already_in_access",
    "covered_all_systems",
    "covered_named_system",
    "additional_system",
    "covered_after_additional_fee",
    "package_no_licence_start",
    "package_monthly",
    "setup_fee",
    "setup_fee_replacement",
    "setup_already_done",
    "setup_waived_phase_out",
    "setup_waived_change",
    "startup_package",
    "startup_covers_licences",
    "setup_covered_by_startup",
    "adjustment",
    "licence_start_with_order",
    "licence_monthly_with_order",
    "setup_with_order",
    "additional_system_with_order",
}


def rule_arguments() -> list[ast.expr]:
    """The rule argument of every QuoteLine the pricing core builds, and of every call that passes one on."""
    tree = ast.parse(Path(pricing.__file__).read_text())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", "")
        if name == "QuoteLine" and len(node.args) >= 2:
            found.append(node.args[1])
        elif name == "_additional_system_line" and len(node.args) >= 4:
            found.append(node.args[3])
    return found


def test_the_rules_values_are_the_codes_stored_today():
    assert {rule.value for rule in Rule} == STORED_CODES
    assert all(isinstance(rule.value, str) and rule == rule.value for rule in Rule)


def test_the_pricing_core_names_every_rule_by_its_member_never_by_a_bare_string():
    arguments = rule_arguments()
    assert len(arguments) >= 28
    members = set()
    for argument in arguments:
        if isinstance(argument, ast.Name):
            assert argument.id == "rule"  # _additional_system_line passes on what its callers gave it
            continue
        if isinstance(argument, ast.Subscript):
            assert ast.unparse(argument) == "x['rule']"  # Quote.from_dict: read back, checked by QuoteLine
            continue
        assert isinstance(argument, ast.Attribute) and argument.value.id == "Rule", ast.unparse(argument)
        members.add(Rule[argument.attr])
    assert members == set(Rule), set(Rule) - members  # and no member is dead


def test_every_rule_has_the_addendums_wording_or_is_explicitly_wordless():
    assert set(addendum_wording.ADDENDUM_SENTENCES) == set(Rule)
    wordless = {rule for rule, sentence in addendum_wording.ADDENDUM_SENTENCES.items() if sentence is None}
    assert wordless >= pricing.WITH_ORDER_RULES
    assert Rule.LICENCE_START not in wordless and Rule.ADJUSTMENT not in wordless


@pytest.mark.parametrize("rule", list(Rule))
def test_each_rules_addendum_sentence_is_printed_or_the_quotes_own_text_is(rule):
    line = QuoteLine(pricing.ONE_TIME, rule, Decimal("0.00"), "Kvotens egen tekst.", "The quote's own text.", "fra")
    text = addendum_wording.addendum_line_sentence(
        line, system="VagtPlan", package="Vagtplanpakke", interface_names={"fra": "Opret Fravær"}
    )
    sentence = addendum_wording.ADDENDUM_SENTENCES[rule]
    if sentence is None:
        assert text == "Kvotens egen tekst."
    else:
        assert text != "Kvotens egen tekst." and "{" not in text


def test_a_line_with_an_unknown_rule_cannot_be_made():
    with pytest.raises(ValueError, match="some_future_rule"):
        QuoteLine(pricing.ONE_TIME, "some_future_rule", Decimal("0.00"), "Intet vederlag.", "")


def test_a_frozen_quote_with_an_unknown_rule_fails_to_read_rather_than_reading_as_another():
    frozen = {
        "price_list": "Prisliste 2026",
        "vat_rate": "0.25",
        "lines": [{"kind": "one_time", "rule": "setup_fee_v2", "amount": "5000.00", "da": "x", "en": "x"}],
    }
    with pytest.raises(ValueError, match="setup_fee_v2"):
        pricing.Quote.from_dict(frozen)


def test_a_frozen_quote_reads_back_as_members_and_writes_the_same_strings():
    frozen = {
        "price_list": "Prisliste 2026",
        "vat_rate": "0.25",
        "lines": [
            {"kind": "one_time", "rule": "setup_fee", "amount": "5000.00", "da": "a", "en": "b", "interface": ""}
        ],
    }
    quote = pricing.Quote.from_dict(frozen)
    assert quote.lines[0].rule is Rule.SETUP_FEE
    assert quote.to_dict() == frozen
    assert type(quote.to_dict()["lines"][0]["rule"]) is str  # JSON-safe and identical to what was stored


def test_the_addendum_refuses_a_rule_it_has_no_wording_for(monkeypatch):
    line = QuoteLine(pricing.ONE_TIME, Rule.SETUP_FEE, Decimal("5000.00"), "Opsætningsvederlag.", "Setup fee.")
    monkeypatch.delitem(addendum_wording.ADDENDUM_SENTENCES, Rule.SETUP_FEE)
    with pytest.raises(addendum_wording.UnknownRule, match="setup_fee"):
        addendum_wording.addendum_line_sentence(line, system="VagtPlan", package="", interface_names={})


def test_the_addendum_refuses_a_line_whose_rule_is_no_member():
    class Stray:  # a line-like object built around QuoteLine's own check
        rule = "some_future_rule"
        da = "Intet vederlag."
        interface = ""

    with pytest.raises(addendum_wording.UnknownRule, match="some_future_rule"):
        addendum_wording.addendum_line_sentence(Stray(), system="", package="", interface_names={})
