"""Scanners for the upload hook tests, named by DATAPASS_DOCUMENT_SCANNER as module:function.

EICAR is the standard antivirus test string: real scanners flag it, so a stand-in scanner for
tests may too.
"""

from __future__ import annotations

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SCANNED: list[str] = []


def eicar_scanner(content: bytes, filename: str) -> str | None:
    SCANNED.append(filename)
    if EICAR in content:
        return f"« {filename} » contient un logiciel malveillant (EICAR-Test-File) : refusé."
    return None


def broken_scanner(content: bytes, filename: str) -> str | None:
    raise ConnectionError("clamd is not answering")
