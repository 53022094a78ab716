"""Small readers of rendered pages and builders of test inputs, shared by the integration tests."""

from __future__ import annotations

import html
import io
import re

from werkzeug.datastructures import FileStorage

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf_upload(name: str = "deliberation.pdf", content: bytes = PDF) -> tuple[io.BytesIO, str]:
    """A (stream, filename) pair, as the test client posts files."""
    return io.BytesIO(content), name


def file_storage(name: str = "deliberation.pdf", content: bytes = PDF) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=name, content_type="application/pdf")


def field_error(page: str, field_id: str) -> str | None:
    """The error the DSFR field macro shows next to the field `field_id`, unescaped, or None."""
    match = re.search(
        rf'<p id="{re.escape(field_id)}-desc-error" class="fr-error-text">(.*?)</p>', page, re.S
    )
    if match is None:
        return None
    return html.unescape(match.group(1)).strip()


def group_errors(page: str, group_id: str) -> list[str]:
    """Messages of a DSFR messages group (checkboxes, fieldsets) with this id."""
    match = re.search(rf'id="{re.escape(group_id)}">(.*?)</div>', page, re.S)
    if match is None:
        return []
    return [
        html.unescape(m).strip()
        for m in re.findall(r'<p class="fr-message fr-message--error">(.*?)</p>', match.group(1))
    ]


def flashes(page: str) -> list[str]:
    """The flashed messages of a page (DSFR small alerts)."""
    found = re.findall(
        r'<div class="fr-alert fr-alert--\w+ fr-alert--sm fr-mb-3w" role="\w+">\s*'
        r"<p>(.*?)</p>",
        page,
        re.S,
    )
    return [html.unescape(m).strip() for m in found]


def error_message(page: str) -> str | None:
    match = re.search(r'data-testid="error-message">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)).strip() if match else None


def text(page: str) -> str:
    """The page's text content, tags dropped and entities unescaped (for "is shown" checks)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def after_testid(page: str, testid: str) -> str:
    """The HTML from the element carrying data-testid=`testid` to the end of the page."""
    index = page.find(f'data-testid="{testid}"')
    assert index >= 0, f"no element with data-testid={testid!r}"
    return page[index:]
