"""derive: symbolic derivations for SGD and its momentum variants.

Each formulation is declared once (:mod:`derive.catalogue`) as a per-step
program of assignments; everything else (the linear-system view, closed
forms, proofs, renderings) is derived from that declaration.

This package imports SymPy (and NumPy at most), never torch.
"""

from derive.formulation import Assign, Formulation
from derive.catalogue import CATALOGUE, get

__all__ = ["Assign", "Formulation", "CATALOGUE", "get"]
