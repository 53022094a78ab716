"""Uploads: the malware-scan hook runs before anything is stored (a refusal is a French form
error, a failing scanner refuses), and downloads are attachments with a safe file name."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.security import scanners
from tests.security.scanners import EICAR

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
INFECTED = b"%PDF-1.4\n" + EICAR + b"\n%%EOF\n"


@pytest.fixture
def draft(factory):
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    return applicant, factory.request(applicant, org)


def _post_legal(client, request_id: int, files: list[tuple[bytes, str]]):
    data = {
        "cadre_juridique_nature": "Délibération du conseil municipal n° 2024-12",
        "documents": [(io.BytesIO(content), name) for content, name in files],
    }
    return client.post(
        f"/requests/{request_id}/steps/legal", data=data, content_type="multipart/form-data"
    )


def _login(app, user_id: int):
    from datapass.accounts.models import User
    from datapass.extensions import db

    with app.app_context():
        email = db.session.get(User, user_id).email
    client = app.test_client()
    assert client.post("/login", data={"email": email}).status_code == 302
    return client


def _stored_files(app) -> list[Path]:
    return [p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]


def _documents(factory, request_id: int) -> list[tuple[int, str]]:
    from datapass.extensions import db
    from datapass.requests.models import AuthorizationRequest

    with factory.app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        return [(d.id, d.filename) for d in request_obj.documents]


def test_a_file_the_scanner_refuses_is_a_form_error_and_nothing_is_stored(make_app):
    app = make_app(DOCUMENT_SCANNER="tests.security.scanners:eicar_scanner")
    from tests.factories import Factory

    factory = Factory(app)
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    request_id = factory.request(applicant, org)
    before = _stored_files(app)
    client = _login(app, applicant)

    response = _post_legal(client, request_id, [(PDF, "sain.pdf"), (INFECTED, "piege.pdf")])

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "contient un logiciel malveillant" in page
    assert _stored_files(app) == before  # the clean file of the same post is not stored either
    assert _documents(factory, request_id) == []
    assert {"sain.pdf", "piege.pdf"} <= set(scanners.SCANNED)

    response = _post_legal(client, request_id, [(PDF, "sain.pdf")])
    assert response.status_code == 302
    assert [name for _, name in _documents(factory, request_id)] == ["sain.pdf"]


def test_a_failing_scanner_refuses_the_file(make_app):
    app = make_app(DOCUMENT_SCANNER="tests.security.scanners:broken_scanner")
    from tests.factories import Factory

    factory = Factory(app)
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    request_id = factory.request(applicant, org)
    response = _post_legal(_login(app, applicant), request_id, [(PDF, "sain.pdf")])
    assert response.status_code == 200
    assert "n&#39;a pas pu être analysé" in response.get_data(as_text=True)
    assert _documents(factory, request_id) == []


def test_a_scanner_that_cannot_be_imported_stops_start_up(make_app):
    from datapass.config import ConfigError

    with pytest.raises(ConfigError, match="DATAPASS_DOCUMENT_SCANNER"):
        make_app(DOCUMENT_SCANNER="tests.security.scanners:missing")


def test_a_download_is_an_attachment_with_a_safe_name(app, factory, login_as, draft):
    applicant, request_id = draft
    client = login_as(applicant)
    hostile = "../../etc/passwd\"; filename*=UTF-8''evil.html\r\nX-Injected: 1.pdf"
    assert _post_legal(client, request_id, [(PDF, hostile)]).status_code == 302
    ((document_id, _),) = _documents(factory, request_id)

    response = client.get(f"/requests/{request_id}/documents/{document_id}")

    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in disposition and ".." not in disposition
    assert "\r" not in disposition and "\n" not in disposition
    assert "X-Injected" not in response.headers
    assert disposition.rstrip().endswith(".pdf") or disposition.endswith('.pdf"')
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    response.close()


def test_a_fake_pdf_is_refused_by_content(app, login_as, draft):
    applicant, request_id = draft
    html = b"<html><script>alert(1)</script></html>"
    response = _post_legal(login_as(applicant), request_id, [(html, "vrai.pdf")])
    assert response.status_code == 200
    assert "n&#39;est pas un document PDF valide" in response.get_data(as_text=True)
