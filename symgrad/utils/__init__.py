"""``torch.utils``: data loading (``symgrad.utils.data``)."""
import symgrad.utils.data as data  # noqa: F401
