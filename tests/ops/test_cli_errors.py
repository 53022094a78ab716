"""The `datapass` console script on a database that is not migrated: one clear line, exit 1."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_command_on_an_unmigrated_database_says_what_to_do(tmp_path):
    env = {
        **os.environ,
        "DATAPASS_ENV": "development",
        "DATAPASS_VAR_DIR": str(tmp_path),
        "DATAPASS_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "DATAPASS_LOG_FORMAT": "none",
    }
    env.pop("DATAPASS_TEST_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", "from datapass.cli import main; main()", "list-users"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no such table" in result.stderr
    assert "datapass db upgrade" in result.stderr
