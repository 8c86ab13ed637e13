"""`python -m generator` is the same program as `creditwise`."""

import sys


def main() -> int:
    # Imported here, not at the top: a chart-drawing worker started from the `creditwise` script runs
    # that script again, and must not pay for the whole command line's imports (charts/cache.py).
    from generator.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
