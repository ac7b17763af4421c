"""The case being entered (a ``CaseDraft``) and its autosave (drafts). The application layer
(``pharmacist_tool.app``) owns the session that edits them. Qt-free."""
