"""Behind the TLS reverse proxy: its X-Forwarded-* headers are trusted only when configured."""

from __future__ import annotations

import pytest

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "datapass.example.gouv.fr"}


@pytest.mark.parametrize(
    ("proxies", "issuer"), [(1, "https://datapass.example.gouv.fr"), (0, "http://localhost")]
)
def test_forwarded_headers_are_trusted_only_from_configured_proxies(make_app, proxies, issuer):
    app = make_app(TRUSTED_PROXIES=proxies)
    metadata = app.test_client().get("/.well-known/oauth-authorization-server", headers=FORWARDED)
    assert metadata.status_code == 200
    assert metadata.json["issuer"] == issuer
