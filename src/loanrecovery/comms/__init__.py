"""Borrower communications: the contact-policy engine (rules as data, ``profiles/``),
templates, the reminder scheduler, the channels (SMTP, webhook, letters) and the outbox
worker (docs/communications.md).

Nothing runs at import time.
"""
