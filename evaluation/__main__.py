"""``python -m evaluation``: hands over to the command-line tool :mod:`evaluation_cli`, a script
that stands above training and the flags (it restores a run's model with the run's flags); Python
looks for this one module inside the package."""
import sys

from evaluation_cli import main

sys.exit(main())
