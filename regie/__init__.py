"""Regie: the command line and the combined app. The only package that knows every role."""

__version__ = "0.1.0"

__all__ = ["__version__"]
