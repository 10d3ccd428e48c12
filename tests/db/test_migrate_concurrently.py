"""`knightvision db upgrade` on a fresh PostgreSQL from several hosts at once, as the API units of
deploy/systemd run it before each start: they take turns, and every one succeeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from knightvision.db.migrate import current_revision, head_revision
from knightvision.settings import Settings
from tests.fixtures.databases import fresh_postgres_database

HOSTS = 3


def test_upgrades_started_together_all_succeed(tmp_path: Path) -> None:
    with fresh_postgres_database() as url:
        env = {
            **os.environ,
            "KNIGHTVISION_DATABASE_URL": url,
            "KNIGHTVISION_DATA_DIR": str(tmp_path),
        }
        upgrades = [
            subprocess.Popen(
                [sys.executable, "-m", "knightvision", "db", "upgrade"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(HOSTS)
        ]
        said = [
            upgrade.communicate(timeout=120)[0].decode(errors="replace") for upgrade in upgrades
        ]
        assert [upgrade.returncode for upgrade in upgrades] == [0] * HOSTS, said
        assert current_revision(Settings(database_url=url).async_database_url) == head_revision()
