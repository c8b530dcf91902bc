"""Scheduler test setup: the repository root on sys.path, so tests import ``tests.scheduler.builders``
whatever directory pytest starts from (the test directories are not packages)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
