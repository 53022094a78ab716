"""Operations fixtures: a signing key in place (as the migrate step makes), free ports."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from datapass.oauth.keys import create_signing_key
from datapass.ops.logs import HANDLER_NAME


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def signing_key(app) -> None:
    create_signing_key(Path(app.config["OAUTH_KEY_DIR"]))


@pytest.fixture
def restore_logging():
    """Our JSON handler goes once the test is over (later tests log through pytest only)."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)
