"""``python -m custom_scheduler`` runs the command line."""

import sys

from custom_scheduler.cli import main

sys.exit(main())
