"""Fit once, apply many: every stage of loanrecovery in one bundle.

Typical use::

    from loanrecovery.bundle import fit_bundle, load_bundle, save_bundle
    from loanrecovery.contract.book import read_book

    bundle = fit_bundle(read_book("data/"))
    save_bundle(bundle, "book.bundle")
    result = load_bundle("book.bundle").apply(read_book("next_month/"))
"""

from loanrecovery.bundle.account import account_status
from loanrecovery.bundle.core import Bundle
from loanrecovery.bundle.files import bundle_bytes, load_bundle, read_manifest, save_bundle
from loanrecovery.bundle.fit import FitReport, fit_bundle, fit_with_report
from loanrecovery.bundle.results import AccountResult, BookResult

__all__ = [
    "AccountResult",
    "BookResult",
    "Bundle",
    "FitReport",
    "account_status",
    "bundle_bytes",
    "fit_bundle",
    "fit_with_report",
    "load_bundle",
    "read_manifest",
    "save_bundle",
]
