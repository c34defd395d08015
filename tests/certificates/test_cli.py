"""python manage.py check_certificate_bundle PATH [--environment] [--at] [--json]"""

import json

import pytest
from django.core.management import call_command

from certificates.testing import key_pem, pem, rsa_key, zip_bytes


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_certificate_bundle", *args)
    return exit_info.value.code, capsys.readouterr().out


@pytest.fixture
def bundle_file(tmp_path, pki, leaf):
    path = tmp_path / "kaede.zip"
    path.write_bytes(zip_bytes({"kaede.pem": pem(leaf, pki.issuing, pki.root)}))
    return path


def test_an_accepted_bundle_exits_0_with_the_chain_as_json(trusted_test_environment, bundle_file, capsys):
    code, out = run(capsys, str(bundle_file), "--json")
    report = json.loads(out)
    assert code == 0 and report["valid"] is True
    assert [c["role"] for c in report["chain"]] == ["leaf", "intermediate", "root"]
    assert set(report["chain"][0]) == {"role", "subject", "issuer", "sha256", "not_before", "not_after"}
    assert all(set(f) == {"code", "severity", "message"} for f in report["findings"])


def test_a_rejected_bundle_exits_1_with_its_findings(trusted_test_environment, tmp_path, pki, leaf, capsys):
    path = tmp_path / "alt.pem"
    path.write_bytes(pem(leaf, pki.issuing) + key_pem(rsa_key(3072, 1)))
    code, out = run(capsys, str(path), "--json")
    report = json.loads(out)
    assert code == 1 and report["valid"] is False
    assert [f["code"] for f in report["findings"]] == ["private_key"]
    assert report["chain"] == []


def test_at_checks_validity_on_another_day(trusted_test_environment, bundle_file, capsys):
    code, out = run(capsys, str(bundle_file), "--at", "2035-01-01")
    assert code == 1 and "leaf_expired" in out


def test_production_without_anchors_is_refused(trusted_test_environment, bundle_file, capsys):
    code, out = run(capsys, str(bundle_file), "--environment", "production", "--json")
    assert code == 1 and json.loads(out)["findings"][0]["code"] == "no_trust_anchors"


def test_the_text_report_names_the_verdict(trusted_test_environment, bundle_file, capsys):
    code, out = run(capsys, str(bundle_file))
    assert code == 0 and out.startswith("kaede.zip: ACCEPTED")


def test_the_shipped_test_anchors_are_used_by_default(bundle_file, capsys):
    code, out = run(capsys, str(bundle_file), "--json")
    assert code == 1  # the look-alike root is not the real OCES3 test root
    assert json.loads(out)["findings"][0]["code"] == "root_not_trusted"


def test_the_command_starts_without_weasyprint_or_system_checks():
    """WeasyPrint takes most of a second to import; only rendering a PDF may load it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from certificates.management.commands.check_certificate_bundle import Command

    assert Command.requires_system_checks == []
    probe = "import sys, django; django.setup(); import config.urls; print('weasyprint' in sys.modules)"
    loaded = subprocess.run(  # noqa: S603 - a fixed command; a fresh process, as a command starts
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "False"  # every view, service and admin is loaded, and WeasyPrint is not
