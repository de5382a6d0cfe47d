"""Errors that name the problem and the fix."""


class DeriveError(Exception):
    """Base class: a request derive cannot honour, with a one-line reason."""


class InvalidHyperparameter(DeriveError, ValueError):
    """A hyperparameter combination the framework itself refuses."""


class UnknownFormulation(DeriveError, KeyError):
    """A catalogue name that does not exist."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the sentence
        return str(self.args[0])


class InvalidArgument(DeriveError, TypeError):
    """A public function called with an argument of the wrong kind; the message names the argument."""
