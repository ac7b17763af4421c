"""The personalised patient handout (ReportLab; no Qt)."""
