"""derive: symbolic derivations for SGD and its momentum variants.

Each formulation is declared once (:mod:`derive.catalogue`) as a per-step
program of assignments; everything else (the linear-system view, closed
forms, proofs, renderings) is derived from that declaration.

This package imports SymPy (and NumPy at most), never torch.

The public functions below are what the notebooks (and users) call; all but
the first few are loaded on first use, so ``import derive`` stays light.
"""

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
    "closed_form": ("derive.unroll", "closed_form"),
    "Quadratic": ("derive.unroll", "Quadratic"),
    "change_of_variables": ("derive.equivalence", "equivalence"),  # not "equivalence": that is the module
    "template_conditions": ("derive.equivalence", "template_conditions"),
    "in_convention": ("derive.convention", "in_convention"),
    "latex": ("derive.render.printer", "house_latex"),
    "update_rows": ("derive.render.derivation", "update_rows"),
    "system_rows": ("derive.render.derivation", "system_rows"),
    "expression_rows": ("derive.render.derivation", "expression_rows"),
    "convention_rows": ("derive.render.convention", "convert"),
    "display_rows": ("derive.render.experiments", "display_rows"),
    "trajectory": ("derive.render.experiments", "trajectory"),
    "at_steps": ("derive.render.experiments", "at_steps"),
    "effective_momentum": ("derive.render.experiments", "effective_momentum"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'derive' has no attribute {name!r}")
