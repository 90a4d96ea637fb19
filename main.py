"""Entry point for people coming from the original write-up.

``pip install -r requirements.txt && python main.py`` does what ``loanrecovery run`` does;
any arguments of ``loanrecovery run`` may follow (e.g. ``python main.py --data loans.csv``).
"""

import sys

# The package's entry point: sets OMP_WAIT_POLICY before LightGBM loads, then the CLI.
from loanrecovery.__main__ import main

if __name__ == "__main__":
    main(["run", *sys.argv[1:]])
