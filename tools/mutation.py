"""Mutation testing for one module: would its own tests notice a small mistake in it?

Run from the repository root, with the module and the tests that are its own:

    .venv/bin/python tools/mutation.py billing/pricing.py tests/billing/test_pricing.py tests/billing/test_contract_terms.py
    .venv/bin/python tools/mutation.py registers/jws.py tests/registers/test_access_register.py --lines 60-75
    .venv/bin/python tools/mutation.py core/outbox.py tests/reliability/test_outbox.py --list

Each mutant changes one thing, found with `ast`: a comparison (< and <=, > and >=, == and !=, is and
is not, in and not in), `and` and `or`, a `not` left out, a number (0 and 1, else one more and one
less), True and False, `return x` made `return None`, arithmetic (+ and -, * and /, // and ** to *,
& and |, << and >>, also in `x += 1`), and an `if …: raise …` guard left out. The source text of just
that node is replaced, so line numbers stay where they were; a mutant that does not compile, or that
compiles to the same tree, is dropped. Expressions inside f-strings and annotations are left alone, as
is string concatenation (`"a" + b` made `"a" - b` fails at once and says nothing about the tests).

The mutants run one at a time in a temporary copy of the repository (without .venv, .git, media; with
node_modules linked), never in this checkout, with this checkout's .venv: the mutant is written over the
module in the copy and pytest runs `-x -q -p no:cacheprovider` there, stopped after a timeout. First the
unmutated tests must pass, twice: traced, recording which test runs which line of the module, then as
the mutants will run. Each mutant then runs only the tests that run its lines (every test, for lines run
on import); a mutant on a line no test runs survives without running. On SQLite the test database is
migrated once, in the first run, and each mutant starts from a copy of it (pytest-django's --reuse-db
on a file) rather than from the migrations.

Killed: a test failed (or the module no longer imports). Survived: every test passed. Timeout: the run
took longer than --timeout (default twice the first run, plus 20 s); counted as killed, and listed.
Score = (killed + timeouts) / mutants run.

Options:
    --lines 60-75,90    only mutants that start on these lines
    --max N             at most N mutants (the first N by line)
    --per-line N        at most N mutants starting on one line (default 4; 0: no limit)
    --timeout S         seconds per mutant
    --all-tests         run every given test for every mutant (slower; no line selection)
    --list              print the mutants and run nothing
    --json FILE         also write the results as JSON
    --keep              keep the temporary copy (its path is printed)

Exit status: 0 when the run completed (whatever the score), 2 when the unmutated tests fail (the copy is
kept then, to look into).
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
NOT_COPIED = {".venv", ".git", "media", "node_modules", ".ruff_cache", "staticfiles"}
LINKED = ("node_modules",)  # read only by the tests (static files), so linked rather than copied
PYTEST = ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "mutation_plugin"]

COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
ARITHMETIC = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
SYMBOL = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.And: "and",
    ast.Or: "or",
}


# --- Mutants ------------------------------------------------------------------------------------


@dataclass
class Mutant:
    line: int
    col: int
    end_line: int
    end_col: int
    replacement: str
    operator: str  # "< → <=", "drop `if …: raise`", …
    function: str  # the enclosing def, or "<module>"
    trigger_lines: list[int]  # a test that runs none of these cannot see the mutant
    outcome: str = ""  # killed, survived, timeout, not covered
    seconds: float = 0.0
    killed_by: str = ""

    def where(self) -> str:
        return f"line {self.line} ({self.function})"


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str | bytes))


def _numbers(value: int | float) -> list[int | float]:
    if value == 0:
        return [1]
    if value == 1:
        return [0, 2]
    return [value + 1, value - 1]


def _expression_mutants(node: ast.expr) -> list[tuple[str, str]]:
    """(replacement source, operator) for one expression node; each replacement is parenthesised."""
    found = []
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            if type(op) in COMPARE:
                changed = copy.deepcopy(node)
                changed.ops[index] = COMPARE[type(op)]()
                found.append((changed, f"{SYMBOL[type(op)]} → {SYMBOL[COMPARE[type(op)]]}"))
    elif isinstance(node, ast.BoolOp):
        changed = copy.deepcopy(node)
        changed.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        found.append((changed, f"{SYMBOL[type(node.op)]} → {SYMBOL[type(changed.op)]}"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        found.append((node.operand, "not x → x"))
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        found.append((ast.Constant(not node.value), f"{node.value} → {not node.value}"))
    elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        for value in _numbers(node.value):
            found.append((ast.Constant(value), f"{node.value!r} → {value!r}"))
    elif (
        isinstance(node, ast.BinOp)
        and type(node.op) in ARITHMETIC
        and not (_is_text(node.left) or _is_text(node.right))
    ):
        changed = copy.deepcopy(node)
        changed.op = ARITHMETIC[type(node.op)]()
        found.append((changed, f"{SYMBOL[type(node.op)]} → {SYMBOL[type(changed.op)]}"))
    return [(f"({ast.unparse(tree)})", operator) for tree, operator in found]


def _statement_mutants(node: ast.stmt, source_lines: list[bytes]) -> list[tuple[str, str]]:
    if isinstance(node, ast.Return) and node.value is not None and not isinstance(node.value, ast.Constant):
        return [("return None", "return x → return None")]  # a constant's own mutants cover `return False`
    if isinstance(node, ast.AugAssign) and type(node.op) in ARITHMETIC:
        changed = copy.deepcopy(node)
        changed.op = ARITHMETIC[type(node.op)]()
        return [(ast.unparse(changed), f"{SYMBOL[type(node.op)]}= → {SYMBOL[type(changed.op)]}=")]
    # Only a plain `if` (an `elif`'s node starts at its test, so its text cannot be cut out whole).
    if (
        isinstance(node, ast.If)
        and not node.orelse
        and isinstance(node.body[-1], ast.Raise)
        and source_lines[node.lineno - 1][node.col_offset :].startswith(b"if ")
    ):
        return [("pass", "drop `if …: raise …`")]
    return []


def _children(node: ast.AST):
    """The child nodes a mutant may touch: not annotations, not the insides of f-strings."""
    for name, value in ast.iter_fields(node):
        if name in ("annotation", "returns", "type_comment"):
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST) and not isinstance(child, ast.JoinedStr):
                yield child


def generate(source: str) -> list[Mutant]:
    """Every mutant of `source`, in line and column order, deterministically."""
    tree = ast.parse(source)
    encoded = source.encode("utf-8")
    source_lines = encoded.splitlines(keepends=True)
    mutants: list[Mutant] = []

    def visit(node: ast.AST, statement: ast.stmt | None, function: str) -> None:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return  # a docstring or a bare constant
        if isinstance(node, ast.stmt):
            statement = node
            for replacement, operator in _statement_mutants(node, source_lines):
                mutants.append(_mutant(node, replacement, operator, function, {node.lineno}))
        elif isinstance(node, ast.expr):
            for replacement, operator in _expression_mutants(node):
                lines = set(range(node.lineno, node.end_lineno + 1)) | {statement.lineno}
                mutants.append(_mutant(node, replacement, operator, function, lines))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for default in [*node.args.defaults, *node.args.kw_defaults, *node.decorator_list]:
                if default is not None:
                    visit(default, statement, function)
            for child in node.body:
                visit(child, statement, node.name if function == "<module>" else f"{function}.{node.name}")
            return
        for child in _children(node):
            visit(child, statement, function)

    visit(tree, None, "<module>")
    original = ast.dump(tree)
    usable = []
    for mutant in sorted(mutants, key=lambda m: (m.line, m.col, m.end_line, m.end_col)):
        try:
            changed = ast.parse(apply(source, mutant))
        except SyntaxError:
            continue
        if ast.dump(changed) != original:
            usable.append(mutant)
    return usable


def _mutant(node: ast.AST, replacement: str, operator: str, function: str, lines: set[int]) -> Mutant:
    return Mutant(
        node.lineno,
        node.col_offset,
        node.end_lineno,
        node.end_col_offset,
        replacement,
        operator,
        function,
        sorted(lines),
    )


def apply(source: str, mutant: Mutant) -> str:
    # ast offsets count UTF-8 bytes, so the cut is made in bytes (a line may hold "æ" before the node).
    lines = source.encode("utf-8").splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    encoded = b"".join(lines)
    begin = starts[mutant.line - 1] + mutant.col
    end = starts[mutant.end_line - 1] + mutant.end_col
    return (encoded[:begin] + mutant.replacement.encode("utf-8") + encoded[end:]).decode("utf-8")


def select(mutants: list[Mutant], *, lines: set[int] | None, per_line: int, limit: int | None) -> list[Mutant]:
    chosen, on_line = [], {}
    for mutant in mutants:
        if lines is not None and mutant.line not in lines:
            continue
        on_line[mutant.line] = on_line.get(mutant.line, 0) + 1
        if per_line and on_line[mutant.line] > per_line:
            continue
        chosen.append(mutant)
    return chosen[:limit] if limit else chosen


def parse_lines(text: str) -> set[int]:
    lines = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        lines.update(range(int(first), int(last or first) + 1))
    return lines


# --- Running ------------------------------------------------------------------------------------

# Loaded into each pytest run (-p mutation_plugin). On SQLite it points the test database at a file, so
# that --reuse-db can start each run from the migrated copy; in the first run it also records which test
# runs which line of the module (sys.settrace, only in frames of that file) and saves the migrated database.
PLUGIN = r"""
import json
import os
import shutil
import sqlite3
import sys
import threading

import pytest

TARGET = os.environ.get("MUTATION_TARGET", "")
TRACE_OUT = os.environ.get("MUTATION_TRACE_OUT")
TEST_DB = os.environ.get("MUTATION_TEST_DB")
TEMPLATE = os.environ.get("MUTATION_DB_TEMPLATE")
EVERY_TEST = "*"  # lines run on import, in collection or between tests: they may matter to every test
current = [EVERY_TEST]
hits = {}
order = []


def _local(frame, event, arg):
    if event == "line":
        key = EVERY_TEST if frame.f_code.co_name == "<module>" else current[0]
        hits.setdefault(key, set()).add(frame.f_lineno)
    return _local


def _global(frame, event, arg):
    if frame.f_code.co_filename == TARGET:
        return _local
    return None


if TRACE_OUT:
    sys.settrace(_global)
    threading.settrace(_global)


def pytest_configure(config):
    if not TEST_DB:
        return
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = TEST_DB
        config.option.reuse_db = True


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    result = yield
    if fixturedef.argname == "django_db_setup" and TEMPLATE and TEST_DB and os.path.exists(TEST_DB):
        source, target = sqlite3.connect(TEST_DB), sqlite3.connect(TEMPLATE)
        with target:
            source.backup(target)
        source.close()
        target.close()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    current[0] = item.nodeid
    order.append(item.nodeid)
    try:
        return (yield)
    finally:
        current[0] = EVERY_TEST


def pytest_unconfigure(config):
    if TRACE_OUT:
        sys.settrace(None)
        with open(TRACE_OUT, "w") as out:
            json.dump({"order": order, "lines": {k: sorted(v) for k, v in hits.items()}}, out)
"""


class StoppedFromOutside(Exception):
    """A test run ended by a signal that this tool did not send."""


@dataclass
class Workspace:
    tmp: Path
    repo: Path
    module: Path
    test_paths: list[str]
    env: dict[str, str]
    template: Path | None = None
    lines_of_test: dict[str, set[int]] = field(default_factory=dict)
    test_order: list[str] = field(default_factory=list)
    every_test_lines: set[int] = field(default_factory=set)


def make_workspace(module: str, test_paths: list[str]) -> Workspace:
    tmp = Path(tempfile.mkdtemp(prefix="mutation-"))
    repo = tmp / "repo"
    shutil.copytree(
        ROOT, repo, symlinks=True, ignore=lambda folder, names: NOT_COPIED & set(names) if folder == str(ROOT) else ()
    )
    for name in LINKED:
        if (ROOT / name).exists():
            (repo / name).symlink_to(ROOT / name)
    (tmp / "mutation_plugin.py").write_text(PLUGIN)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp), str(repo)]),
        "MUTATION_TARGET": str(repo / module),
        "MUTATION_TEST_DB": str(tmp / "test.sqlite3"),
    }
    env.pop("PYTEST_ADDOPTS", None)
    return Workspace(tmp, repo, repo / module, test_paths, env)


def run_pytest(ws: Workspace, tests: list[str], *, timeout: float | None, extra_env=None) -> tuple[str, float, str]:
    """("passed" | "failed" | "usage" | "timeout", seconds, the output's last lines)."""
    for cached in (ws.module.parent / "__pycache__").glob(f"{ws.module.stem}.*.pyc"):
        cached.unlink()  # a mutant of the same size written in the same second would otherwise load the old .pyc
    if ws.template is not None:
        shutil.copyfile(ws.template, ws.env["MUTATION_TEST_DB"])
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - the project's own Python running pytest
        [str(PYTHON), *PYTEST, *tests],
        cwd=ws.repo,
        env={**ws.env, **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group this run started, and nothing else
        process.communicate()
        return "timeout", time.monotonic() - started, ""
    except BaseException:  # Ctrl-C or SIGTERM: stop this run's pytest too
        os.killpg(process.pid, signal.SIGKILL)
        raise
    seconds = time.monotonic() - started
    tail = "\n".join(output.decode("utf-8", "replace").splitlines()[-15:])
    if process.returncode < 0:  # stopped by a signal from outside: neither a kill nor a survival
        raise StoppedFromOutside(f"pytest was stopped by signal {-process.returncode}")
    if process.returncode == 0:
        return "passed", seconds, tail
    if process.returncode in (4, 5):  # a node id pytest could not find, or no test at all
        return "usage", seconds, tail
    return "failed", seconds, tail


class BaselineFailed(Exception):
    """The tests fail, or never run the module, before any mutant: no score would mean anything."""


def baseline(ws: Workspace) -> float:
    trace = ws.tmp / "trace.json"
    template = ws.tmp / "template.sqlite3"
    extra = {"MUTATION_TRACE_OUT": str(trace), "MUTATION_DB_TEMPLATE": str(template)}
    result, seconds, tail = run_pytest(ws, ws.test_paths, timeout=None, extra_env=extra)
    if result != "passed":
        raise BaselineFailed(f"The tests fail without any mutant, in {ws.repo}:\n{tail}")
    data = json.loads(trace.read_text())
    if not data["lines"]:
        raise BaselineFailed(f"The tests never ran {ws.module.relative_to(ws.repo)} (was it imported from elsewhere?)")
    ws.every_test_lines = set(data["lines"].pop("*", []))
    ws.lines_of_test = {test: set(lines) for test, lines in data["lines"].items()}
    ws.test_order = data["order"]
    ws.template = template if template.exists() else None
    # Again without tracing, as each mutant runs (from the saved database): it must pass that way too.
    result, seconds, tail = run_pytest(ws, ws.test_paths, timeout=None)
    if result != "passed":
        raise BaselineFailed(
            f"The tests fail without any mutant when run from the saved database, in {ws.repo}:\n{tail}"
        )
    return seconds


def tests_for(ws: Workspace, mutant: Mutant) -> list[str] | None:
    """The tests that run the mutant's lines (all given paths for import-time lines); None: no test does."""
    lines = set(mutant.trigger_lines)
    if lines & ws.every_test_lines:
        return ws.test_paths
    tests = [test for test in ws.test_order if ws.lines_of_test.get(test, set()) & lines]
    return tests or None


def run_mutant(ws: Workspace, source: str, mutant: Mutant, *, timeout: float, all_tests: bool) -> None:
    tests = ws.test_paths if all_tests else tests_for(ws, mutant)
    if tests is None:
        mutant.outcome = "not covered"
        return
    ws.module.write_text(apply(source, mutant), encoding="utf-8")
    result, mutant.seconds, tail = run_pytest(ws, tests, timeout=timeout)
    if result == "usage" and tests is not ws.test_paths:
        result, mutant.seconds, tail = run_pytest(ws, ws.test_paths, timeout=timeout)
    mutant.outcome = {"passed": "survived", "failed": "killed", "timeout": "timeout"}.get(result, "killed")
    if mutant.outcome == "killed":
        failed = [line for line in tail.splitlines() if re.match(r"(FAILED|ERROR) \S+::", line)]
        mutant.killed_by = failed[0] if failed else tail.splitlines()[-1] if tail else ""


def describe(source: str, mutant: Mutant) -> str:
    original = source.encode("utf-8").splitlines()[mutant.line - 1].decode("utf-8").strip()
    return f"{mutant.where()}: {mutant.operator}    {original[:90]}"


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # so that SIGTERM, too, stops the running pytest and removes the copy


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module", help="the module's path from the repository root, e.g. billing/pricing.py")
    parser.add_argument("tests", nargs="*", help="test files or folders, e.g. tests/billing/test_pricing.py")
    parser.add_argument("--lines", type=parse_lines)
    parser.add_argument("--max", type=int, dest="limit")
    parser.add_argument("--per-line", type=int, default=4)
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--all-tests", action="store_true")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    source = (ROOT / args.module).read_text(encoding="utf-8")
    mutants = select(generate(source), lines=args.lines, per_line=args.per_line, limit=args.limit)
    if args.list:
        for mutant in mutants:
            print(describe(source, mutant))
        print(f"{len(mutants)} mutants")
        return 0
    if not args.tests:
        parser.error("name the module's tests")

    ws = make_workspace(args.module, args.tests)
    keep = args.keep
    try:
        try:
            first = baseline(ws)
        except (BaselineFailed, StoppedFromOutside) as failed:
            print(failed, file=sys.stderr)
            keep = True
            return 2
        timeout = args.timeout or 2 * first + 20
        print(f"{args.module}: {len(mutants)} mutants; unmutated tests pass in {first:.1f} s; timeout {timeout:.0f} s")
        for number, mutant in enumerate(mutants, 1):
            run_mutant(ws, source, mutant, timeout=timeout, all_tests=args.all_tests)
            print(
                f"[{number:>3}/{len(mutants)}] {mutant.outcome:<11} {mutant.seconds:5.1f} s  {describe(source, mutant)}"
            )
            sys.stdout.flush()
    except (KeyboardInterrupt, StoppedFromOutside) as stopped:
        print(f"interrupted ({stopped or type(stopped).__name__}); the mutants run so far are counted")
    finally:
        if keep:
            print(f"copy kept in {ws.repo}")
        else:
            shutil.rmtree(ws.tmp, ignore_errors=True)

    done = [m for m in mutants if m.outcome]
    killed = sum(m.outcome == "killed" for m in done)
    timeouts = sum(m.outcome == "timeout" for m in done)
    survivors = [m for m in done if m.outcome in ("survived", "not covered")]
    score = 100 * (killed + timeouts) / len(done) if done else 0.0
    print(
        f"\n{args.module}: score {score:.1f}% of {len(done)} mutants "
        f"({killed} killed, {timeouts} timeouts, {len(survivors)} survived)"
    )
    for mutant in survivors:
        print(
            f"  survived{' (no test runs it)' if mutant.outcome == 'not covered' else ''}: {describe(source, mutant)}"
        )
    for mutant in (m for m in done if m.outcome == "timeout"):
        print(f"  timeout: {describe(source, mutant)}")
    if args.json:
        args.json.write_text(json.dumps({"module": args.module, "score": score, "mutants": [asdict(m) for m in done]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
