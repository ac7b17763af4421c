"""Errors written for people.

A ``UserError`` carries a message a pharmacist can act on; the command line prints it and exits 2,
the window shows it in a dialog. Anything else is a bug: it is logged with its trace.
"""


class UserError(Exception):
    """Bad input or a refused action, explained in plain words."""

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {line}" for line in self.details)
