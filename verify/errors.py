"""The error verify raises for a request it cannot carry out (bad input, nothing to check).

A :class:`VerifyError` is an *expected* failure: the CLI prints its message as one
``verify: error: ...`` line and exits 2. It is a :class:`ValueError`, so callers that already
catch ``ValueError`` keep working.
"""


class VerifyError(ValueError):
    """A request verify cannot carry out; the message names the argument and the fix."""
