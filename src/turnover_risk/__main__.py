"""``python -m turnover_risk`` runs the command line."""

import sys

from turnover_risk.cli import main

sys.exit(main())
