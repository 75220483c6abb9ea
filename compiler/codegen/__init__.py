"""What both wings' code generators use: source writing (``source``) and the index
arithmetic of windowed ops (``window_geometry``)."""
