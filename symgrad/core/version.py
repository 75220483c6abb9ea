"""symgrad's version: part of every disk cache key, read by the backend from here."""
__version__ = "0.1.0"
