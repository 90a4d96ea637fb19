"""The process entry point: the ``loanrecovery`` console script and ``python -m loanrecovery``.

The only module that changes process-wide state, before anything else is imported:
LightGBM's OpenMP threads spin while they wait for work by default, which starves the other
core of a 2-core machine and slows every fit badly when the cores are shared; a passive wait
costs nothing when they are not. OpenMP reads ``OMP_WAIT_POLICY`` once, when LightGBM (or
scikit-learn) first loads it, so it is set here, before the command line is imported. A value
the user set is kept. Importing the library itself never sets it.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from loanrecovery.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
