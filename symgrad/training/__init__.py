"""Floor 4, compiled training loops in both styles (``sg.train``)."""
