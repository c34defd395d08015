"""A fresh Python process configured by config/settings.py alone, for tests of what the environment sets."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine_environment(*, without: set[str] = frozenset(), prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    """This machine's environment less the variables the test sets (or must not inherit) itself."""
    return {k: v for k, v in os.environ.items() if k not in without and not k.startswith(prefixes)}


def run_python(args: list[str], *, base: dict[str, str], env: dict[str, str], timeout: int = 60):
    """`python *args` in the repository, with `base`, config.settings and then `env` as its environment."""
    return subprocess.run(  # noqa: S603 (this interpreter, with the test's own arguments)
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
