"""Counselling desk for high-risk medicines, one knowledge pack per medicine.

One document flows through the tool: the *case* (``pharmacist_tool.case``). The window edits it,
the engine assesses it, the handout renders it, signing stores it and export writes it out.
"""

__version__ = "0.1.0"
APP_NAME = "pharmacist-tool"
