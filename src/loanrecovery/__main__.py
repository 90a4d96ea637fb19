"""``python -m loanrecovery``."""

from loanrecovery.cli import main

if __name__ == "__main__":
    main()
