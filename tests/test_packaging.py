"""Packaging: one distribution whose wheel holds one top-level package, ``symgrad``, with the
backend (compiler/ in the repository) installed as ``symgrad.compiler``."""
import os
import pathlib
import subprocess
import sys
import tarfile
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
    assert "symgrad/py.typed" in names                             # type hints are shipped
    info = {name.split("/", 1)[1]: zipfile.ZipFile(wheel).read(name).decode()
            for name in names if name.split("/")[0].endswith(".dist-info")}
    assert "symgrad = symgrad.__main__:main" in info["entry_points.txt"]
    assert any(name.endswith("LICENSE") for name in info)
    from symgrad.core.version import __version__
    assert f"\nVersion: {__version__}\n" in info["METADATA"]
    check_the_sdist_holds_the_examples_and_the_license(tmp_path)


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_metadata_is_complete_and_the_version_has_one_source():
    metadata, setuptools = project()["project"], project()["tool"]["setuptools"]
    assert metadata["license"] == "MIT" and (ROOT / "LICENSE").read_text().startswith("MIT")
    for key in ("authors", "classifiers", "urls", "requires-python", "readme"):
        assert metadata[key], key
    assert "version" not in metadata and metadata["dynamic"] == ["version"]
    assert setuptools["dynamic"]["version"] == {"attr": "symgrad.core.version.__version__"}
    assert "Typing :: Typed" in metadata["classifiers"]
    assert (ROOT / "symgrad" / "py.typed").exists()


def test_the_extras_install_what_they_say():
    extras = {name: {requirement.split("[")[0].split(">")[0].split("=")[0] for requirement in reqs}
              for name, reqs in project()["project"]["optional-dependencies"].items()}
    assert {"torch", "jax"} <= extras["bench"]
    assert "matplotlib" in extras["viz"]
    assert "numba-cuda" in extras["cuda"]
    assert {"pytest", "pytest-xdist"} <= extras["test"]


def check_the_sdist_holds_the_examples_and_the_license(tmp_path):
    """Called by the wheel's test: both builds write build/ and symgrad.egg-info/ in the
    repository, so they must not run at once in two pytest-xdist workers."""
    subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta; "
                    "build_meta.build_sdist(sys.argv[1])", str(tmp_path)],
                   cwd=ROOT, check=True, capture_output=True)
    (sdist,) = tmp_path.glob("symgrad-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "examples/w1_numpy_grad.py", "tools/write_op_table.py",
            "symgrad/py.typed"} <= names


def test_the_public_functions_have_type_hints():
    import inspect
    import symgrad as sg
    for function in (sg.grad, sg.value_and_grad, sg.jit, sg.vjp, sg.trace, sg.train,
                     sg.check_grad, sg.export_source, sg.viz.export):
        hints = inspect.signature(function)
        assert hints.return_annotation is not inspect.Signature.empty, function
        assert all(p.annotation is not inspect.Parameter.empty
                   for p in hints.parameters.values()), function


def test_a_transformed_function_names_its_function():
    import symgrad as sg

    def loss(w):
        return w.sum()
    assert repr(sg.grad(loss)).startswith("<symgrad.grad of test_a_transformed_function_names_"
                                          "its_function.<locals>.loss (test_packaging.py:")
    assert "value_and_grad of" in repr(sg.value_and_grad(loss))


# -- the symgrad command ----------------------------------------------------------------------
def symgrad_command(*arguments, **options):
    return subprocess.run([sys.executable, "-m", "symgrad", *arguments], capture_output=True,
                          text=True, **options)


def test_the_command_prints_its_version_and_plain_help():
    from symgrad.core.version import __version__
    assert symgrad_command("--version").stdout.startswith(f"symgrad {__version__} ")
    shown = symgrad_command("--help", env={**os.environ, "FORCE_COLOR": "1"})
    assert shown.returncode == 0 and "\x1b" not in shown.stdout
    assert "cache" in shown.stdout and "ops" in shown.stdout


def test_a_closed_pipe_ends_the_command_quietly():
    read_end, write_end = os.pipe()
    os.close(read_end)                   # as `symgrad ops | head` once head has exited
    with os.fdopen(write_end, "w") as closed:
        done = subprocess.run([sys.executable, "-m", "symgrad", "ops"], stdout=closed,
                              stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1 and done.stderr == ""


def test_install_hints_fit_a_source_checkout():
    from symgrad.core.install_hint import install_command
    assert install_command("viz") == f'pip install -e "{ROOT}[viz]"'      # tests run from one
