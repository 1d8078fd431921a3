"""`python -m practice.website`: serve the demo site until interrupted."""

import sys

from practice.website.server import main

if __name__ == "__main__":
    sys.exit(main())
