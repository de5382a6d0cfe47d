"""Rendering: the house LaTeX printer, derivations as rows, and the appendix writers.

Everything rendered is computed from derive's objects (formulations, closed
forms, claim verdicts): nothing here types an update formula again.
"""
