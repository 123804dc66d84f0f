"""``python -m handlers``: the CLI (``handlers.cli.main``)."""

import sys

from handlers.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
