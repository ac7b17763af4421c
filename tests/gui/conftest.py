"""The real counselling window, offscreen, in the test's own home folder and database."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PHARMACIST = "klee"
TECHNICIAN = "tmoss"
PASSWORD = "blue kettle morning walk"


@pytest.fixture
def users(isolated_home: Path) -> Iterator[dict[str, str]]:
    """A pharmacist and a technician in the default SQLite file of the test's home."""
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.users import add_user, authenticate, create_first_admin

    db = open_database()
    create_first_admin(db, "admin", PASSWORD, full_name="The Admin")
    admin = authenticate(db, "admin", PASSWORD, purpose="admin")
    add_user(db, admin, PHARMACIST, "pharmacist", PASSWORD, full_name="K. Lee, PharmD")
    add_user(db, admin, TECHNICIAN, "technician", PASSWORD, full_name="T. Moss")
    db.close()
    yield {"pharmacist": PHARMACIST, "technician": TECHNICIAN, "password": PASSWORD}


@pytest.fixture
def window(qtbot: Any, isolated_home: Path) -> Iterator[Any]:
    from pharmacist_tool.gui import signing
    from pharmacist_tool.gui.app import create_window

    win = create_window()
    qtbot.addWidget(win)
    win.resize(1280, 820)
    with qtbot.waitSignal(win.first_painted):
        win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    yield win
    win.close()
    signing.close_all()
