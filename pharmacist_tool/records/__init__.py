"""Signed counselling records (SQLAlchemy; SQLite or PostgreSQL; no Qt).

Import the submodules lazily (SQLAlchemy stays off everyone else's import path):

- ``db.open_database(url=None) -> Database``: the one way to open the store (creates or migrates
  it); ``Database.session(write=False)`` is one unit of work.
- ``users``: ``needs_first_admin``, ``create_first_admin``, ``add_user``, ``authenticate``
  (lockout after 5 failures), ``logout``, ``list_users``.
- ``service``: ``sign_record``, ``amend_record``, ``record_event`` (view, print, reprint,
  export, …), ``search_records``, ``iter_records``, ``iter_summaries``, ``get_record``,
  ``get_handout``, ``list_events``, ``verify``.
- ``chain``: the hash chain over records, amendments and audit events, and its verification.
- ``commands``: the ``users``, ``sign``, ``amend``, ``records`` and ``verify`` commands.
"""
