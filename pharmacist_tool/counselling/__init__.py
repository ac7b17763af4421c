"""The counselling session out of the window: the case being edited, its assessment, what stands
before signing, and its autosave (drafts). Qt-free: the window only displays and edits it."""
