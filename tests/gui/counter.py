"""Signing in at the counter, as the start screen's form does it, waiting on the window's
``counter_changed`` signal."""

from __future__ import annotations

from typing import Any

from tests.gui.conftest import PASSWORD


def sign_in(qtbot: Any, window: Any, name: str, password: str = PASSWORD) -> None:
    window.login_user.setText(name)
    window.login_password.setText(password)
    with qtbot.waitSignal(window.counter_changed, timeout=30_000) as signal:
        window.login_button.click()
    assert signal.args == [name]


def sign_out(qtbot: Any, window: Any) -> None:
    with qtbot.waitSignal(window.counter_changed) as signal:
        window.act_sign_out.trigger()
    assert signal.args == [""]
