"""``python -m symgrad cache info|clear [--stale]``: look at or empty the compile cache."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m symgrad", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    cache = commands.add_parser("cache", help="the on-disk compile cache")
    cache.add_argument("action", choices=["info", "clear"])
    cache.add_argument("--stale", action="store_true",
                       help="clear: remove only entries made by other versions")
    arguments = parser.parse_args(argv)
    import symgrad.cache as compile_cache
    if arguments.action == "info":
        print(compile_cache.format_info())
    else:
        removed = compile_cache.clear(stale_only=arguments.stale)
        print(f"removed {removed} {'stale ' if arguments.stale else ''}"
              f"entr{'y' if removed == 1 else 'ies'} from {compile_cache.folder()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
