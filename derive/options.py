"""``-o KEY=VALUE`` options of the derive CLI, read into what :func:`derive.catalogue.get` takes.

* A flag (an option whose default is ``True``/``False``) takes ``true``, ``false``,
  ``1`` or ``0``, case-insensitive; anything else (``no``, ``yes``, ``0.5``) is an
  error naming the flag and the value, never a guess.
* Any other value is an expression of numbers (:mod:`derive.expressions`: ``0.9``,
  ``9/10``, ``1e-3``, ``sqrt(2)/2``), checked here exactly as the Python API checks it
  (:func:`derive.hyperparameters.exact`), so both refuse ``nan``, ``inf``, ``1e999``
  and ``1j`` with the same sentence.  It is returned as the text given, which
  ``get`` reads again (the JSON output shows the options as typed).
* A key given twice is an error, not last-one-wins; an unknown key names the valid ones.
"""

from __future__ import annotations

from derive.errors import DeriveError
from derive.hyperparameters import exact

FLAG_WORDS = {"true": True, "1": True, "false": False, "0": False}


def parse_flag(key: str, text: str) -> bool:
    """``true``/``1`` -> True, ``false``/``0`` -> False (any case); anything else is refused."""
    try:
        return FLAG_WORDS[text.strip().lower()]
    except KeyError:
        raise DeriveError(f"{key} is a flag: write {key}=true or {key}=false (or 1/0), got {key}={text!r}") from None


def parse_options(pairs: list[str], name: str | None = None) -> dict:
    """``["momentum=0.9", "nesterov=true"]`` -> ``{"momentum": "0.9", "nesterov": True}``.

    With *name* (a catalogue entry) keys are checked against its options and
    flags are read as flags; without it, only the words ``true``/``false`` become bools.
    """
    accepted = None
    if name is not None:
        from derive.catalogue import options_of

        accepted = options_of(name)
    options: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DeriveError(f"option {pair!r} is not KEY=VALUE (e.g. -o momentum=0.9)")
        if key in options:
            raise DeriveError(f"option {key} is given twice ({key}={_shown(options[key])} and {key}={value}); "
                              "give it once")
        if accepted is not None and key not in accepted:
            raise DeriveError(f"{name} has no option {key}; it accepts {', '.join(accepted) or 'none'}")
        if accepted is not None and isinstance(accepted[key], bool):
            options[key] = parse_flag(key, value)
        elif accepted is None and value.strip().lower() in ("true", "false"):
            options[key] = value.strip().lower() == "true"
        else:
            exact(value, key)  # refuse now, with the Python API's message
            options[key] = value
    return options


def _shown(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
