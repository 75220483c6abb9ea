"""``load_with_pytorch(name)``: an example program with its ``import symgrad as torch`` lines
pointed at PyTorch, so the same model code runs on both (the tests and benchmarks compare
them from the same weights)."""
import importlib.util
import pathlib

EXAMPLES = pathlib.Path(__file__).resolve().parent
IMPORTS = (("import symgrad as torch\n", "import torch\n"),
           ("from symgrad import nn\n", "from torch import nn\n"),
           ("from symgrad.nn import functional as F\n", "from torch.nn import functional as F\n"))


def load_with_pytorch(name):
    """``examples/<name>.py`` as a module whose ``torch``, ``nn`` and ``F`` are PyTorch's."""
    path = EXAMPLES / f"{name}.py"
    source = path.read_text()
    for mine, theirs in IMPORTS:
        if mine not in source:
            raise ValueError(f"{path} does not contain {mine.strip()!r}")
        source = source.replace(mine, theirs)
    module = importlib.util.module_from_spec(
        importlib.util.spec_from_loader(f"{name}_on_pytorch", loader=None))
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module
