"""Errors a user can act on."""


class UserError(Exception):
    """Something a person can fix (a file, a definition, a setting): the message says what,
    where (file, line, column or key) and what was expected. The command line prints it
    without a traceback."""
