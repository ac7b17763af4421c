"""Every place the tool reads or writes, resolved in one module.

- ``PHARMACIST_TOOL_HOME`` (or ``--data-dir``) puts data, settings and logs under one folder:
  for portable installs, development and tests.
- Otherwise the platform's user folders (platformdirs).
- Bundled resources come from ``resources/`` beside the package (source checkout), inside the
  package (installed wheel), or from the PyInstaller bundle (frozen app).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "PharmacistTool"
HOME_ENV = "PHARMACIST_TOOL_HOME"
DATABASE_ENV = "PHARMACIST_TOOL_DATABASE"

_override_home: Path | None = None


def set_home(path: str | os.PathLike[str] | None) -> None:
    """Use one folder for data, settings and logs (the ``--data-dir`` option)."""
    global _override_home
    _override_home = Path(path).expanduser().resolve() if path else None


def _home() -> Path | None:
    if _override_home is not None:
        return _override_home
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser().resolve() if env else None


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def data_dir() -> Path:
    home = _home()
    if home is not None:
        return _ensure(home / "data")
    from platformdirs import user_data_path

    return _ensure(user_data_path(APP_DIR_NAME, appauthor=False))


def config_dir() -> Path:
    home = _home()
    if home is not None:
        return _ensure(home / "config")
    from platformdirs import user_config_path

    return _ensure(user_config_path(APP_DIR_NAME, appauthor=False))


def log_dir() -> Path:
    home = _home()
    if home is not None:
        return _ensure(home / "logs")
    from platformdirs import user_log_path

    return _ensure(user_log_path(APP_DIR_NAME, appauthor=False))


def drafts_dir() -> Path:
    """Sessions in progress, saved on every change so that nothing typed is lost."""
    return _ensure(data_dir() / "drafts")


def settings_file() -> Path:
    return config_dir() / "settings.json"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'records.sqlite3'}"


def database_url(explicit: str | None = None) -> str:
    """The database chosen by ``--database``, then the environment, then the default file."""
    return explicit or os.environ.get(DATABASE_ENV) or default_database_url()


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def resources_dir() -> Path:
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "resources"
    package = Path(__file__).resolve().parent
    for candidate in (package.parent / "resources", package / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled resources not found beside {package}")


def resource(*parts: str) -> Path:
    """A bundled file, e.g. ``resource("fonts", "DejaVuSans.ttf")``."""
    return resources_dir().joinpath(*parts)
