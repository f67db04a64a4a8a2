"""The ``selfmodel`` command line."""

from selfmodel.cli.app import app, main

__all__ = ["app", "main"]
