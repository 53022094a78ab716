"""The production entry point: `gunicorn 'datapass.ops.wsgi:create_wsgi_app()'`.

It adds to create_app the checks that only a serving process needs: in production, a signing key
must exist before the web processes start (created once by `datapass rotate-signing-key` in the
one-shot migrate step), or several workers would each create their own on first use.
"""

from __future__ import annotations

from flask import Flask

from datapass import create_app
from datapass.ops.settings import check_signing_key


def create_wsgi_app(overrides: dict | None = None) -> Flask:
    app = create_app(overrides)
    check_signing_key(app.config)
    return app
