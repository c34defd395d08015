"""Production installs what runs the app and nothing that only tests it."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")


@pytest.mark.skipif(MAKE is None, reason="no make")
def test_install_prod_installs_runtime_packages_only():
    result = subprocess.run(  # noqa: S603 (make, dry run, on the project's own Makefile)
        [MAKE, "--dry-run", "--always-make", "install-prod"], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "-r requirements.txt" in result.stdout
    assert "requirements-dev.txt" not in result.stdout
    assert "npm ci --omit=dev" in result.stdout


def test_the_pages_front_end_packages_are_runtime_dependencies_and_test_tools_are_not():
    package = json.loads((ROOT / "package.json").read_text())
    assert {"dkfds", "htmx.org"} <= package["dependencies"].keys()
    assert "axe-core" in package["devDependencies"] and "axe-core" not in package["dependencies"]
