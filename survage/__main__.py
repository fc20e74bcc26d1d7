"""``python -m survage``."""

import sys

from survage.cli import main

sys.exit(main())
