"""The malware-scan hook for uploaded documents.

DATAPASS_DOCUMENT_SCANNER names a callable `module:function` taking `(content: bytes,
filename: str)` and returning None when the file is clean, or a short French reason to refuse
it (e.g. a ClamAV client). Default: no scan. A scanner that fails refuses the file (fail
closed): an unscanned file is never stored.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from flask import current_app

Scanner = Callable[[bytes, str], "str | None"]
log = logging.getLogger(__name__)


def no_scan(content: bytes, filename: str) -> str | None:
    return None


def resolve_scanner(value: str | Scanner | None) -> Scanner:
    """A callable from the setting: a callable, a "module:function" path, or none."""
    if not value:
        return no_scan
    if callable(value):
        return value
    module_name, _, attribute = value.partition(":")
    if not attribute:
        raise ValueError(f"{value!r}: expected module:function")
    return getattr(importlib.import_module(module_name), attribute)


def scan_document(content: bytes, filename: str) -> str | None:
    """None when the document may be stored, else the French reason it is refused."""
    scanner = resolve_scanner(current_app.config.get("DOCUMENT_SCANNER"))
    try:
        reason = scanner(content, filename)
    except Exception:  # noqa: BLE001 - fail closed, whatever the scanner raised
        log.exception("document scan failed")
        return f"« {filename} » n'a pas pu être analysé ; réessayez plus tard."
    return reason or None
