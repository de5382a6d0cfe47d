"""verify: cross-check torch optimizers against the formulations derived in :mod:`derive`.

The expected trajectory always comes from derive's linear-system view of a catalogue
formulation (:mod:`verify.reference`); the observed one from driving the real optimizer
(:mod:`verify.runner`); :mod:`verify.compare` judges them with an argued tolerance.

The public API: ``verify.identify(factory, kwargs, ...)`` (which catalogue entries an optimizer
implements), ``verify.check(factory, entry, kwargs, ...)`` (one optimizer against one entry),
``verify.record(optimizer)`` (record a real training loop, then ``.check(entry)``),
``verify.testing.assert_implements`` (a pytest helper) and :class:`VerifyError`.
``import verify`` stays cheap and torch-free (``python -m verify --help`` needs no torch): the
functions are imported on first use.
"""

def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sgd-derive")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


__version__ = _version()


import sys
import types

from verify.errors import VerifyError

__all__ = ["__version__", "VerifyError", "check", "identify", "record"]


class _Package(types.ModuleType):
    """``verify.identify`` is the function, though a submodule of the same name exists."""

    @property
    def identify(self):
        from verify.identify import identify

        return identify

    @identify.setter
    def identify(self, value):
        pass  # the import system binds the submodule here on first import; the function stays the API

    @property
    def check(self):
        from verify.judge import check

        return check

    @property
    def record(self):
        from verify.recorder import record

        return record


sys.modules[__name__].__class__ = _Package
