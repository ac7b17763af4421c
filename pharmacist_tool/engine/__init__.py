"""The assessment engine: pure functions from (case, knowledge base) to an assessment."""
