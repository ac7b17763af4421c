"""Signed counselling records (SQLAlchemy; SQLite or PostgreSQL; no Qt).

Import the submodules lazily (SQLAlchemy stays off everyone else's import path):

- ``db.open_database(url=None) -> Database``: the one way to open the store (creates or migrates
  it); ``Database.session(write=False)`` is one unit of work.
- ``users``: ``needs_first_admin``, ``create_first_admin``, ``add_user``, ``authenticate``
  (lockout after 5 failures), ``logout``, ``list_users``.
- ``writing``: ``sign_record``, ``amend_record``, ``record_event`` (view, print, reprint,
  export, …): the only writers of records, amendments and audit events.
- ``reading``: the one read model: ``RecordFilter``, ``SORT_COLUMNS``, ``OUTCOMES``,
  ``fetch_page``, ``count_records``, ``iter_summaries``, ``iter_records``, ``get_record``,
  ``get_handout``, ``list_events``; ``SignedFacts`` (what an inspector reads of a record).
- ``usecases``: ``sign``, ``amend``, ``reprint`` from start to end, for the command line and
  the window alike.
- ``service``: ``verify``.
- ``chain``: the hash chain over records, amendments and audit events, and its verification.
- ``commands``: the ``users``, ``sign``, ``amend``, ``records`` and ``verify`` commands.
"""
