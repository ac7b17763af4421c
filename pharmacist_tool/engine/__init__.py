"""The assessment engine: pure functions from (case, knowledge base) to an assessment."""

from pharmacist_tool.engine.rules import assess

__all__ = ["assess"]
