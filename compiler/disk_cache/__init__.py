"""The on-disk cache of generated modules and their machine code (see ``store``)."""
