"""End-to-end tests: every role a separate process, started from the ``regie`` CLI."""
