"""Request PDFs (datapass/requests/documents.py): checked by content, stored by hash."""

from __future__ import annotations

import hashlib
import io
import zlib
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from datapass.config import PROJECT_ROOT, load_config
from datapass.errors import DomainError
from datapass.requests.documents import (
    DocumentRejected,
    read_pdf,
    size_label,
    storage_path,
    write_file,
)
from tests.unit.conftest import UNIT_MAX_DOCUMENT_SIZE as LIMIT


def _tiny_pdf(text: str = "Deliberation 2024-12") -> bytes:
    """A real one-page PDF 1.4 with a correct cross-reference table."""
    stream = zlib.compress(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PDF = _tiny_pdf()
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture(autouse=True)
def app(unit_app):
    with unit_app.app_context():
        yield unit_app


def _upload(content: bytes, filename: str | None = "deliberation.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=filename, content_type="application/pdf")


def _rejected(content: bytes, filename: str = "deliberation.pdf") -> str:
    with pytest.raises(DocumentRejected) as excinfo:
        read_pdf(_upload(content, filename))
    assert excinfo.value.status == 400
    return excinfo.value.message


# --- checked by content ---------------------------------------------------------------------


def test_tiny_pdf_is_well_formed():
    assert PDF.startswith(b"%PDF-1.4") and PDF.rstrip().endswith(b"%%EOF")
    assert len(PDF) < LIMIT


def test_real_pdf_is_accepted():
    content, filename = read_pdf(_upload(PDF))
    assert content == PDF
    assert filename == "deliberation.pdf"


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (PNG, "deliberation.pdf"),
        (HTML, "deliberation.pdf"),
        (b"MZ\x90\x00" + b"\x00" * 200, "deliberation.pdf"),
        (b"%!PS-Adobe-3.0\n%%EOF\n", "deliberation.pdf"),
        (PDF[: len(PDF) // 2], "deliberation.pdf"),  # truncated: no %%EOF
        (b"\x00" * 1100 + PDF, "deliberation.pdf"),  # header beyond the first 1024 bytes
    ],
    ids=["png", "html", "exe", "postscript", "truncated_pdf", "late_header"],
)
def test_non_pdf_renamed_pdf_is_refused(content, filename):
    assert _rejected(content, filename) == "« deliberation.pdf » n'est pas un document PDF valide."


def test_pdf_with_a_short_preamble_is_accepted():
    # ISO 32000-1 7.5.2: readers accept the header anywhere in the first 1024 bytes.
    content, _ = read_pdf(_upload(b"\n" * 10 + PDF))
    assert content.endswith(PDF)


def test_empty_file_is_refused():
    assert _rejected(b"", "vide.pdf") == "« vide.pdf » est vide."


def test_content_type_is_not_trusted():
    upload = FileStorage(io.BytesIO(PNG), filename="photo.pdf", content_type="application/pdf")
    with pytest.raises(DocumentRejected, match="n'est pas un document PDF valide"):
        read_pdf(upload)


def test_document_rejected_is_a_domain_error():
    # Views turn DomainError into a page with the French message.
    assert issubclass(DocumentRejected, DomainError)


# --- size limit -----------------------------------------------------------------------------


def _pdf_of_size(size: int) -> bytes:
    """The tiny PDF padded with a comment line to exactly `size` bytes."""
    body, tail = PDF.removesuffix(b"%%EOF\n"), b"\n%%EOF\n"
    content = body + b"%" + b" " * (size - len(body) - 1 - len(tail)) + tail
    assert len(content) == size
    return content


def test_file_at_the_size_limit_is_accepted():
    content, _ = read_pdf(_upload(_pdf_of_size(LIMIT)))
    assert len(content) == LIMIT


def test_file_over_the_size_limit_is_refused():
    assert (
        _rejected(_pdf_of_size(LIMIT + 1), "gros.pdf")
        == "« gros.pdf » dépasse la taille maximale de 4 ko."
    )


def test_size_limit_reads_no_more_than_needed():
    stream = io.BytesIO(PDF + b"x" * 100_000)
    with pytest.raises(DocumentRejected):
        read_pdf(FileStorage(stream, filename="gros.pdf"))
    assert stream.tell() == LIMIT + 1


@pytest.mark.parametrize(
    ("size", "label"),
    [
        (10 * 1024 * 1024, "10 Mo"),
        (1024 * 1024 + 512 * 1024, "1,5 Mo"),
        (1024 * 1024, "1 Mo"),
        (500 * 1024, "500 ko"),
        (200, "200 octets"),
    ],
)
def test_size_label_in_french(size, label):
    assert size_label(size) == label


# --- file names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "etc_passwd.pdf"),
        ("Délibération n°12.pdf", "Deliberation_n12.pdf"),
        ("arrete", "arrete.pdf"),
        ("ARRETE.PDF", "ARRETE.PDF"),
        (None, "document.pdf"),
        ("..", "document.pdf"),
    ],
)
def test_file_name_is_made_safe(name, expected):
    _, filename = read_pdf(_upload(PDF, name))
    assert filename == expected


def test_error_message_names_the_uploaded_file():
    assert "« Délibération.pdf »" in _rejected(PNG, "Délibération.pdf")


# --- storage --------------------------------------------------------------------------------


def test_write_file_stores_under_the_sha256(app):
    digest = write_file(PDF)
    assert digest == hashlib.sha256(PDF).hexdigest()
    path = storage_path(digest)
    assert path == Path(app.config["UPLOAD_DIR"]) / digest[:2] / digest
    assert path.read_bytes() == PDF
    assert not list(path.parent.glob("*.part"))


def test_write_file_is_idempotent():
    first = write_file(PDF)
    mtime = storage_path(first).stat().st_mtime_ns
    assert write_file(PDF) == first
    assert storage_path(first).stat().st_mtime_ns == mtime
    other = _tiny_pdf("Autre texte")
    assert write_file(other) != first
    assert storage_path(write_file(other)).read_bytes() == other


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def test_storage_is_outside_the_web_root(app):
    path = storage_path(write_file(PDF))
    assert not _inside(path, Path(app.static_folder))
    assert not _inside(path, PROJECT_ROOT / "templates")


def test_default_upload_dir_is_outside_the_web_root(monkeypatch):
    for name in ("UPLOAD_DIR", "VAR_DIR"):
        monkeypatch.delenv(f"DATAPASS_{name}", raising=False)
    upload_dir = Path(load_config({"ENV_NAME": "testing"})["UPLOAD_DIR"])
    assert upload_dir == PROJECT_ROOT / "var" / "uploads"
    assert not _inside(upload_dir, PROJECT_ROOT / "datapass" / "static")


# --- count limit and all-or-nothing (through the service that attaches documents) ----------


@pytest.fixture
def draft(make_app):
    """An app allowing 2 documents, and a draft with its applicant, in an app context."""
    from datapass.accounts.models import User
    from datapass.extensions import db
    from datapass.requests.models import AuthorizationRequest
    from tests.factories import Factory

    db_app = make_app(MAX_DOCUMENTS=2)
    factory = Factory(db_app)
    org = factory.organization()
    user_id = factory.user(organizations=(org,))
    request_id = factory.request(user_id, org)
    with db_app.app_context():
        yield (
            db_app,
            db.session.get(AuthorizationRequest, request_id),
            db.session.get(User, user_id),
        )
        db.session.rollback()
        db.engine.dispose()


def _stored_files(db_app) -> list[Path]:
    return [p for p in Path(db_app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]


def test_count_limit(draft):
    from datapass.lifecycle.services import add_documents

    db_app, request_obj, user = draft
    # Empty file inputs (nothing chosen) are not documents and count for nothing.
    assert add_documents(request_obj, user, [FileStorage(filename=""), None]) == []
    (document,) = add_documents(request_obj, user, [_upload(PDF, "a.pdf")])
    assert (document.size, document.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    with pytest.raises(DomainError) as excinfo:
        add_documents(request_obj, user, [_upload(_tiny_pdf(str(n)), f"{n}.pdf") for n in (1, 2)])
    assert excinfo.value.message == "2 documents au plus par demande."
    assert [d.filename for d in request_obj.documents] == ["a.pdf"]
    assert len(_stored_files(db_app)) == 1
    add_documents(request_obj, user, [_upload(_tiny_pdf("b"), "b.pdf")])
    assert [d.filename for d in request_obj.documents] == ["a.pdf", "b.pdf"]


def test_one_bad_file_stores_none(draft):
    from datapass.lifecycle.services import add_documents

    db_app, request_obj, user = draft
    with pytest.raises(DocumentRejected, match="« photo.pdf » n'est pas un document PDF valide"):
        add_documents(request_obj, user, [_upload(PDF, "a.pdf"), _upload(PNG, "photo.pdf")])
    assert request_obj.documents == []
    assert _stored_files(db_app) == []
