"""``python -m turnover_risk.cli`` runs the command line (as ``python -m turnover_risk``)."""

import sys

from turnover_risk.cli._main import main

sys.exit(main())
