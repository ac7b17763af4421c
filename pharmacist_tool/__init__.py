"""Counselling desk for high-risk medicines, starting with isotretinoin.

One document flows through the tool: the *case* (``pharmacist_tool.case``). The window edits it,
the engine assesses it, the handout renders it, signing stores it and export writes it out.
"""

__version__ = "0.1.0"
APP_NAME = "pharmacist-tool"
