"""simtool's process exit statuses, named in one place (docs/simtool-aram.md has the table).

Every ``SimtoolError`` subclass sets ``exit_code`` to one of these; commands that finish without
an error but with a negative answer (``aram check``: not granted) return one of them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit status of a simtool command."""

    OK = 0
    ERROR = 1  # other error (unreadable APK, secret not available, …)
    USAGE = 2  # bad option or input file, APDU too long, output file not writable
    NO_CARD = 3  # no PC/SC service, no (matching) reader, no card, reader busy
    CARD_REMOVED = 4  # the card went away during the command
    CARD_REFUSED = 5  # the card refused a command (status word), no ARA-M
    DAMAGED_LIST = 6  # the card's rule list could not be read exactly
    NOT_VERIFIED = 7  # read-back differs from what was asked; --watch: some card failed
    ANDROID_REFUSAL = 8  # Android would not honour the rule; check: not granted
    ADM = 9  # ADM key refused, blocked, badly formed or too few attempts left
    SECURE_CHANNEL = 10  # GP secure channel: card cryptogram mismatch, EXTERNAL AUTHENTICATE refused, bad R-MAC
    INTERRUPTED = 130  # Ctrl-C (SIGINT); aram apply --watch: a card was stopped mid-way
