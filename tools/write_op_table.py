"""Rewrite the README's table of supported ops from the op registry (symgrad/op_table.py).

Run after declaring an op: ``python tools/write_op_table.py``. tests/test_readme.py fails
while the README's table differs from what this writes.
"""
import pathlib

from symgrad.op_table import with_table

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"

if __name__ == "__main__":
    README.write_text(with_table(README.read_text()))
    print(f"wrote the op table into {README}")
