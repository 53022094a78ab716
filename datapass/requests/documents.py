"""Storage of the PDF documents attached to requests.

Files are stored outside the web root under their SHA-256, so that a snapshot (an authorization)
can keep pointing at a file after the request drops it; they are only ever served through a view
that checks access.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from datapass.errors import DomainError
from datapass.security.scan import scan_document

PDF_MAGIC = b"%PDF-"


class DocumentRejected(DomainError):
    pass


def storage_path(sha256: str) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / sha256[:2] / sha256


def size_label(size: int) -> str:
    """A size in bytes as French users read it: "10 Mo", "1,5 Mo", "500 ko", "200 octets"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",") + " Mo"
    if size >= 1024:
        return f"{size // 1024} ko"
    return f"{size} octets"


def read_pdf(upload: FileStorage) -> tuple[bytes, str]:
    """The upload's bytes and a safe file name, or DocumentRejected with a French reason."""
    limit = current_app.config["MAX_DOCUMENT_SIZE"]
    name = upload.filename or "document.pdf"
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        raise DocumentRejected(f"« {name} » dépasse la taille maximale de {size_label(limit)}.")
    if not content:
        raise DocumentRejected(f"« {name} » est vide.")
    # PDF 1.7 (ISO 32000-1, 7.5.2): the header is within the first 1024 bytes, "%%EOF" ends it.
    if PDF_MAGIC not in content[:1024] or b"%%EOF" not in content[-2048:]:
        raise DocumentRejected(f"« {name} » n'est pas un document PDF valide.")
    filename = secure_filename(name) or "document.pdf"
    if not filename.lower().endswith(".pdf"):
        filename += ".pdf"
    reason = scan_document(content, filename)  # malware-scan hook, before anything is stored
    if reason:
        raise DocumentRejected(reason)
    return content, filename


def write_file(content: bytes) -> str:
    """Store the bytes under their hash (idempotent); returns the hash."""
    digest = hashlib.sha256(content).hexdigest()
    path = storage_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(content)
        tmp.replace(path)
    return digest
