"""derive: symbolic derivations for SGD and its momentum variants.

Each formulation is declared once (:mod:`derive.catalogue`) as a per-step
program of assignments; everything else (the linear-system view, closed
forms, proofs, renderings) is derived from that declaration.

This package imports SymPy (and NumPy at most), never torch.

The public API (documented in the README's "Python API" section):

* declare and register: :class:`Formulation`, :class:`Assign`, :func:`register`, :func:`get`;
* closed forms: :func:`closed_form` (concrete horizon), :func:`symbolic_closed_form` (any ``T``, by induction);
* equivalence: ``derive.equivalence(a, b, steps=..., same_params=..., under=...)`` returns a
  :class:`Proof` or a :class:`Residual` (its ``conditions`` as SymPy relations, ``sufficient``,
  and a :class:`Witness`).  ``derive.equivalence`` is the function, as ``verify.identify`` is,
  though a submodule of that name exists: ``from derive.equivalence import ...`` still imports
  the module's names;
* claims: :func:`claim` (a decorator registering a procedure), :func:`judge`;
* numbers: :func:`trajectory` (given gradients or an objective per coordinate, float or exact);
* the role table :data:`ROLES`; pytest helpers in :mod:`derive.testing`.

All but the first few names are loaded on first use, so ``import derive`` stays light.
"""

import sys
import types

def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sgd-derive")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


__version__ = _version()


# name -> (module, attribute): loaded on first use (PEP 562), so that importing a light module
# (derive.arguments, derive.errors: verify's parser) does not import SymPy
_LAZY = {
    "Assign": ("derive.formulation", "Assign"),
    "Formulation": ("derive.formulation", "Formulation"),
    "CATALOGUE": ("derive.catalogue", "CATALOGUE"),
    "get": ("derive.catalogue", "get"),
    "register": ("derive.registry", "register"),
    "unregister": ("derive.registry", "unregister"),
    "closed_form": ("derive.unroll", "closed_form"),
    "symbolic_closed_form": ("derive.induction", "symbolic_closed_form"),
    "Quadratic": ("derive.unroll", "Quadratic"),
    "Proof": ("derive.equivalence", "Proof"),
    "Residual": ("derive.equivalence", "Residual"),
    "Witness": ("derive.witness", "Witness"),
    "ROLES": ("derive.symbols", "ROLES"),
    "Role": ("derive.symbols", "Role"),
    "claim": ("derive.claims", "claim"),
    "judge": ("derive.claims", "judge"),
    "Verdict": ("derive.claims", "Verdict"),
    "trajectory": ("derive.runs", "trajectory"),
    "DeriveError": ("derive.errors", "DeriveError"),
    "change_of_variables": ("derive.equivalence", "equivalence"),  # the older name of derive.equivalence
    "template_conditions": ("derive.equivalence", "template_conditions"),
    "in_convention": ("derive.convention", "in_convention"),
    "latex": ("derive.render.printer", "house_latex"),
    "update_rows": ("derive.render.derivation", "update_rows"),
    "system_rows": ("derive.render.derivation", "system_rows"),
    "expression_rows": ("derive.render.derivation", "expression_rows"),
    "convention_rows": ("derive.render.convention", "convert"),
    "display_rows": ("derive.render.experiments", "display_rows"),
    "at_steps": ("derive.render.experiments", "at_steps"),
    "effective_momentum": ("derive.render.experiments", "effective_momentum"),
}

__all__ = ["__version__", "equivalence", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'derive' has no attribute {name!r}")


class _Package(types.ModuleType):
    """``derive.equivalence`` is the function, though a submodule of the same name exists."""

    @property
    def equivalence(self):
        from derive.equivalence import equivalence

        return equivalence

    @equivalence.setter
    def equivalence(self, value):
        pass  # the import system binds the submodule here on first import; the function stays the API


sys.modules[__name__].__class__ = _Package
