"""Floor 1, the IR and its calculus: graph, ops, tracing, reverse mode, interpreter.

Imports numpy and networkx and nothing above it; it is the only part of symgrad that the
backend (``symgrad.compiler``) imports.
"""
