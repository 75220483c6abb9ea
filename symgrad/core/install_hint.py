"""How to install an optional part, worded for how symgrad itself was installed: from a
source checkout (``pip install -e ".[viz]"`` in that folder) or from a package index
(``pip install "symgrad[viz]"``).

>>> install_command("viz").startswith("pip install")
True
"""
import pathlib

CHECKOUT = pathlib.Path(__file__).resolve().parents[2]    # the folder holding symgrad/


def from_checkout():
    """Whether symgrad runs from a source checkout (its pyproject.toml beside the package)."""
    return (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "symgrad").is_dir()


def install_command(extra):
    """The command that installs symgrad's optional dependencies ``extra``."""
    if from_checkout():
        return f'pip install -e "{CHECKOUT}[{extra}]"'
    return f'pip install "symgrad[{extra}]"'
