"""The recovery service: a database of loans, payments as they arrive, cases, roles and an
audit trail, behind a FastAPI application (``loanrecovery serve``).

Nothing here runs at import time; :func:`loanrecovery.service.app.create_app` builds the app.
"""
