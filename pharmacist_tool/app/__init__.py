"""The application layer: the counter session (the case being entered, where each value came
from, what stands before signing, each step's state) without Qt. The window shows what it says
and calls its edit methods; the command line and the tests use it the same way. The records
desk (``app.records``) is the actions on signed records, each with its audit entry, for the
records view and the command line alike."""
