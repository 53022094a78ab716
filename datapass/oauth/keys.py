"""Signing keys for access tokens: EC P-256 (ES256) JWKs kept as files in OAUTH_KEY_DIR.

The newest file is the current key; the one before it stays published in the JWKS so that tokens
it signed still verify after a rotation. Keys are parsed once per process; each process checks the
directory's modification time at most every `reload_interval` seconds and reloads only when a
rotation changed it, so `datapass rotate-signing-key` needs no restart.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from joserfc.jwk import ECKey, KeySet

ALGORITHM = "ES256"
PUBLISHED_KEYS = 2  # current and previous
SUFFIX = ".jwk.json"


def _key_files(directory: Path) -> list[Path]:
    """Oldest first: names start with a UTC timestamp."""
    return sorted(directory.glob(f"*{SUFFIX}"))


def create_signing_key(directory: Path) -> ECKey:
    """Write a new key, which becomes current, and drop keys older than the previous one."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ECKey.generate_key("P-256", private=True, auto_kid=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = directory / f"{stamp}-{key.kid}{SUFFIX}"
    temporary = directory / f".{target.name}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(key.as_dict(private=True), file)
    os.replace(temporary, target)  # atomic: readers never see a half-written key
    for old in _key_files(directory)[:-PUBLISHED_KEYS]:
        old.unlink(missing_ok=True)
    return key


class SigningKeys:
    """The keys of one process: the current private key and the published public key set."""

    def __init__(self, directory: str | Path, reload_interval: float = 5.0):
        self.directory = Path(directory)
        self.reload_interval = reload_interval
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._stamp: int | None = None
        self._current: ECKey | None = None
        self._public: KeySet = KeySet([])
        self._jwks: dict = {"keys": []}

    def _refresh(self) -> None:
        if time.monotonic() - self._checked_at < self.reload_interval and self._current:
            return
        with self._lock:
            self._checked_at = time.monotonic()
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            stamp = self.directory.stat().st_mtime_ns
            if stamp == self._stamp and self._current:
                return
            files = _key_files(self.directory)
            if not files:  # first start: create the first key rather than fail
                create_signing_key(self.directory)
                files = _key_files(self.directory)
                stamp = self.directory.stat().st_mtime_ns
            keys = [ECKey.import_key(json.loads(p.read_text())) for p in files[-PUBLISHED_KEYS:]]
            public = [ECKey.import_key(k.as_dict(private=False)) for k in reversed(keys)]
            self._public = KeySet(public)
            self._jwks = {
                "keys": [
                    {**k.as_dict(private=False), "use": "sig", "alg": ALGORITHM} for k in public
                ]
            }
            self._current, self._stamp = keys[-1], stamp

    def current(self) -> ECKey:
        """The private key that signs new tokens."""
        self._refresh()
        return self._current

    def public_key_set(self) -> KeySet:
        self._refresh()
        return self._public

    def jwks(self) -> dict:
        """The JWKS document (current key first), as published at /.well-known/jwks.json."""
        self._refresh()
        return self._jwks
