"""Exceptions raised by lnfast."""

from __future__ import annotations

import os


class CheckpointError(ValueError):
    """A checkpoint file could not be read.

    The message always names the file and the problem, so a user who is
    handed only str(error) knows which file to look at and why it failed.
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):
        # The default exception pickling passes only the formatted message,
        # which does not fit this two-argument constructor.
        return (type(self), (self.path, self.problem))


class LayoutError(CheckpointError):
    """A checkpoint was read, but which tensors make up the network is not clear.

    Raised when no known layout is found, when several candidate networks
    are (the message lists them and how to pick one with ``prefix=`` or
    ``layout=``), when a tensor's shape does not fit its role (the message
    names the tensor, the shape found and the shape expected), or when the
    network holds something lnfast does not run (a norm between layers).
    """
