"""The one error type users see: what went wrong, where, and the likely fix."""


class EolinkedError(Exception):
    """An input or usage error with a location (file, line, row) and a hint."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class QueryError(EolinkedError):
    """A query that cannot be evaluated (unsupported feature, bad argument, store problem)."""


class QuerySyntaxError(QueryError):
    """A SPARQL syntax error; ``line`` and ``column`` give its position when known."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        self.line, self.column = line, column
        super().__init__(message)


class QueryTimeout(QueryError):
    """A query that ran past its time limit."""
