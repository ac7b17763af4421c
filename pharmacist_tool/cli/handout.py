"""``pharmacist-tool handout CASE -o OUT.pdf [--large-print] [--language CODE] [--paper P]``.

The case's ``patient.large_print`` and ``handout_language`` are the defaults; the flags override.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pharmacist_tool.errors import UserError


def run_handout(args: argparse.Namespace) -> int:
    from pharmacist_tool.case import load_case, write_atomically
    from pharmacist_tool.engine import assess
    from pharmacist_tool.handout import render_handout
    from pharmacist_tool.knowledge import load_for_counter
    from pharmacist_tool.settings import load_settings

    output = Path(args.output)
    if output.is_dir():
        raise UserError(f"{output} is a folder; give a file name for the handout, e.g. handout.pdf")
    case = load_case(args.case)
    settings = load_settings()
    kb = load_for_counter(case.prescription.medicine)
    assessment = assess(case, kb)
    handout = render_handout(
        case,
        assessment,
        kb,
        settings,
        large_print=True if args.large_print else None,
        language=args.language,
        paper=args.paper,
    )
    try:
        write_atomically(output, handout.pdf)
    except OSError as error:
        raise UserError(f"Cannot write the handout to {output}: {error.strerror}") from error
    if handout.language != handout.requested_language:
        print(
            f"note: there is no approved {handout.requested_language!r} handout; "
            "printed in English with a note",
            file=sys.stderr,
        )
    if handout.blocked:
        print(
            "note: the medicine is not to be handed over today (the findings or the recorded "
            "outcome); "
            'wrote the "not handed over today" sheet (no dosing instructions)',
            file=sys.stderr,
        )
    if handout.missing_settings:
        print(
            f"warning: the settings do not give {' or '.join(handout.missing_settings)}; "
            "the sheet has a blank line to write them on (set them in the window's Settings)",
            file=sys.stderr,
        )
    if handout.missing_characters:
        shown = " ".join(f"U+{ord(c):04X}" for c in handout.missing_characters)
        print(
            f"warning: these characters cannot be printed and show as a box: {shown}",
            file=sys.stderr,
        )
    return 0
