"""`python -m generator` is the same program as `creditwise`."""

import sys

from generator.cli import main

sys.exit(main())
