"""The README tells the truth: its first example and its PyTorch example run as written, its
op table is the one the registry makes (symgrad/op_table.py), its environment table lists
every variable symgrad reads, and its test command is the one CI runs."""
import ast
import pathlib
import re

import pytest

import symgrad.op_table as op_table

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
TEST_COMMAND = "python -m pytest -q -rs -n auto"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README, re.S)


def section(heading):
    start = README.index(f"## {heading}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end >= 0 else None]


def test_the_first_example_runs_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(python_blocks()[0], "README.md (first example)", "exec"), {})
    assert "%" in capsys.readouterr().out           # it printed the graph's listing


def test_the_pytorch_example_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (block,) = re.findall(r"```python\n(.*?)```", section("PyTorch users"), re.S)
    namespace = {}
    exec(compile(block, "README.md (PyTorch users)", "exec"), namespace)
    history = namespace["history"]
    assert len(history) == 500 and history[-1] < history[0]


def test_the_op_table_is_generated_from_the_registry():
    assert op_table.readme_section() in README, (
        "the README's op table is stale: run python tools/write_op_table.py")


def environment_variables_read(path):
    """The names a module passes to os.environ.get / os.environ[...] / os.getenv."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            target = ast.unparse(node.func)
            if target in ("os.environ.get", "os.getenv"):
                names.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            if isinstance(node.slice, ast.Constant):
                names.add(node.slice.value)
    return names


def settings_names():
    """Every NAME settings.py passes as a first argument (to os.environ.get or a helper)."""
    tree = ast.parse((ROOT / "symgrad" / "core" / "settings.py").read_text())
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
            and re.fullmatch(r"[A-Z][A-Z0-9_]{3,}", str(node.args[0].value))}


def test_every_setting_is_in_the_environment_table():
    settings = settings_names()
    table = README[README.index("<!-- environment variables -->"):
                   README.index("<!-- end of environment variables -->")]
    listed = set(re.findall(r"^\| `([A-Z_]+)` \|", table, re.M))
    assert settings and settings == listed


def test_only_settings_reads_the_environment():
    readers = sorted(str(path.relative_to(ROOT)) for folder in ("symgrad", "compiler")
                     for path in (ROOT / folder).rglob("*.py")
                     if environment_variables_read(path) and path.name != "settings.py")
    assert readers == [], "read environment variables in symgrad/core/settings.py"


def paragraph_above_the_test_command():
    """The paragraph just above the test command's code block."""
    above = README[:README.index(TEST_COMMAND)].rsplit("```bash", 1)[0]
    return above.rstrip().rsplit("\n\n", 1)[1]


def test_the_test_command_is_the_one_ci_runs():
    commands = re.findall(r"```bash\n(.*?)```", README, re.S)
    assert any(command.strip().endswith(f"&& {TEST_COMMAND}") for command in commands)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert TEST_COMMAND in [line.strip() for line in ci]
    paragraph = paragraph_above_the_test_command()
    assert "Tests" in paragraph and "`" not in paragraph     # the one command it names is below


def test_the_readme_states_the_suite_duration():
    paragraph = paragraph_above_the_test_command()
    assert re.search(r"about \d+ minutes", paragraph)
