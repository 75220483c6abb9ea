"""The ``symgrad`` command (also ``python -m symgrad``): ``symgrad --version``, ``symgrad ops``
(the supported ops, as the README's table) and ``symgrad cache info|clear [--stale]
[--folder PATH]`` (look at or empty the compile cache: the folder in use, or the one given;
nothing outside it is touched)."""
import argparse
import os
import sys

DESCRIPTION = """symgrad: trace numpy or PyTorch-style code into a graph, differentiate it in
reverse mode and compile it with numba. This command looks at its installation."""


def parser(prog=None):
    options = {"color": False} if sys.version_info >= (3, 14) else {}   # plain text, always
    arguments = argparse.ArgumentParser(prog=prog or _prog(), description=DESCRIPTION,
                                        **options)
    arguments.add_argument("--version", action="version", version=_version())
    commands = arguments.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("ops", help="list the supported ops (numpy, Tensor and torch names)")
    cache = commands.add_parser("cache", help="look at or empty the on-disk compile cache")
    cache.add_argument("action", choices=["info", "clear"])
    cache.add_argument("--stale", action="store_true",
                       help="clear: remove only entries made by other versions")
    cache.add_argument("--folder", help="the cache folder (default: $SYMGRAD_CACHE_DIR, else "
                                        "the platform's user cache folder + symgrad)")
    return arguments


def _prog():
    return "symgrad" if os.path.basename(sys.argv[0]) == "symgrad" else "python -m symgrad"


def _version():
    from symgrad.core.version import __version__
    import platform
    return f"symgrad {__version__} (Python {platform.python_version()})"


def main(argv=None):
    """The console script: exit status of the command; a closed pipe (``symgrad ops | head``)
    ends it quietly, as it does ``cat``."""
    try:
        status = _run(parser().parse_args(argv))
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # Python would report the failed flush of stdout at exit: point it at /dev/null
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _run(arguments):
    if arguments.command == "ops":
        from symgrad.op_table import markdown_table
        print(markdown_table())
        return 0
    return _cache(arguments)


def _cache(arguments):
    import symgrad.cache as compile_cache
    folder = arguments.folder or compile_cache.folder()
    if arguments.action == "info":
        print(compile_cache.format_info(compile_cache.info(folder)))
        return 0
    try:
        removed = compile_cache.clear(stale_only=arguments.stale, folder=folder)
    except OSError as error:
        print(f"{_prog()} cache clear: {error}", file=sys.stderr)
        return 1
    print(f"removed {removed} {'stale ' if arguments.stale else ''}"
          f"entr{'y' if removed == 1 else 'ies'} from {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
