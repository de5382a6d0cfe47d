"""verify: cross-check torch optimizers against the formulations derived in :mod:`derive`.

The expected trajectory always comes from derive's linear-system view of a catalogue
formulation (:mod:`verify.reference`); the observed one from driving the real optimizer
(:mod:`verify.runner`); :mod:`verify.compare` judges them with an argued tolerance.

``verify.identify(factory, kwargs, ...)`` and :class:`VerifyError` are the public API.
``import verify`` stays cheap and torch-free (``python -m verify --help`` needs no torch):
``identify`` is imported on first use.
"""

import sys
import types

from verify.errors import VerifyError

__all__ = ["VerifyError", "identify"]


class _Package(types.ModuleType):
    """``verify.identify`` is the function, though a submodule of the same name exists."""

    @property
    def identify(self):
        from verify.identify import identify

        return identify

    @identify.setter
    def identify(self, value):
        pass  # the import system binds the submodule here on first import; the function stays the API


sys.modules[__name__].__class__ = _Package
