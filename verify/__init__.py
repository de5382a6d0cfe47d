"""verify: cross-check torch optimizers against the formulations derived in :mod:`derive`.

The expected trajectory always comes from derive's linear-system view of a catalogue
formulation (:mod:`verify.reference`); the observed one from driving the real optimizer
(:mod:`verify.runner`); :mod:`verify.compare` judges them with an argued tolerance.
"""
