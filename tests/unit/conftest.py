"""One app for the unit tests that need an app context but no database (forms, files)."""

from __future__ import annotations

import pytest
from flask import Flask

from datapass import create_app
from tests.conftest import _config

# Small enough to test the limit with a tiny PDF.
UNIT_MAX_DOCUMENT_SIZE = 4096


@pytest.fixture(scope="session")
def unit_app(tmp_path_factory) -> Flask:
    """Built once: create_app costs about a second (signing keys, OpenAPI document)."""
    var_dir = tmp_path_factory.mktemp("unit")
    return create_app(_config(var_dir, MAX_DOCUMENT_SIZE=UNIT_MAX_DOCUMENT_SIZE))
