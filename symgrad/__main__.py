"""``python -m symgrad cache info|clear [--stale] [--folder PATH]``: look at or empty the
compile cache (the folder in use, or the one given: nothing outside it is touched)."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m symgrad", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    cache = commands.add_parser("cache", help="the on-disk compile cache")
    cache.add_argument("action", choices=["info", "clear"])
    cache.add_argument("--stale", action="store_true",
                       help="clear: remove only entries made by other versions")
    cache.add_argument("--folder", help="the cache folder (default: $SYMGRAD_CACHE_DIR, else "
                                        "the platform's user cache folder + symgrad)")
    arguments = parser.parse_args(argv)
    import symgrad.cache as compile_cache
    folder = arguments.folder or compile_cache.folder()
    if arguments.action == "info":
        print(compile_cache.format_info(compile_cache.info(folder)))
        return 0
    try:
        removed = compile_cache.clear(stale_only=arguments.stale, folder=folder)
    except OSError as error:
        print(f"python -m symgrad cache clear: {error}", file=sys.stderr)
        return 1
    print(f"removed {removed} {'stale ' if arguments.stale else ''}"
          f"entr{'y' if removed == 1 else 'ies'} from {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
