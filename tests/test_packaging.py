"""Packaging: one distribution whose wheel holds one top-level package, ``symgrad``, with the
backend (compiler/ in the repository) installed as ``symgrad.compiler``."""
import pathlib
import subprocess
import sys
import tomllib
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDERS = {"symgrad": "symgrad", "compiler": "symgrad.compiler"}   # folder -> package name


def package_folders():
    """Every package in the repository, by its installed name."""
    names = set()
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            names.add(".".join([package, *parts]))
    return names


def test_pyproject_lists_every_package_and_maps_the_backend():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(setuptools["packages"]) == package_folders()
    assert setuptools["package-dir"] == {"symgrad.compiler": "compiler"}


def test_the_backend_is_symgrad_compiler():
    import symgrad.compiler
    import symgrad.compiler.cpu.lowering as lowering
    assert pathlib.Path(symgrad.compiler.__file__).parent == ROOT / "compiler"
    assert lowering.__name__ == "symgrad.compiler.cpu.lowering"


def test_the_wheel_holds_symgrad_only(tmp_path):
    # the build backend comes as the editable install's did (build isolation)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                    str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("symgrad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"symgrad"}
    assert "symgrad/compiler/cpu/runtime/gemm.py" in names       # pasted into generated code
    assert "symgrad/core/ops/registry.py" in names
