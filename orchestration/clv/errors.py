"""Errors of the CLV code: bad input versus a fit that did not work out."""

from __future__ import annotations


class ClvInputError(ValueError):
    """The transactions or the summary cannot be modelled as given (the caller must fix them).

    The CLI prints the message as one line and exits with code 2.
    """


class ClvFitError(RuntimeError):
    """The maximum-likelihood search did not converge to usable parameters."""
