"""RML string templates: parsing with backslash escapes, and validation."""
from __future__ import annotations

from eolinked.errors import EolinkedError

from .model import Template


def parse_template(text: str, where: str = "") -> Template:
    """Split ``text`` into text and ``{reference}`` parts; ``\\{``, ``\\}`` and ``\\\\`` escape."""
    parts: list[tuple[str, str]] = []
    buf: list[str] = []
    ref: list[str] | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text) or text[i + 1] not in "{}\\":
                raise _bad(text, where, i, "a backslash must escape '{', '}' or '\\'")
            (ref if ref is not None else buf).append(text[i + 1])
            i += 2
            continue
        if ch == "{":
            if ref is not None:
                raise _bad(text, where, i, "nested '{'")
            if buf:
                parts.append(("text", "".join(buf)))
                buf = []
            ref = []
        elif ch == "}":
            if ref is None:
                raise _bad(text, where, i, "'}' without an opening '{'")
            if not ref:
                raise _bad(text, where, i, "empty reference '{}'")
            parts.append(("ref", "".join(ref)))
            ref = None
        else:
            (ref if ref is not None else buf).append(ch)
        i += 1
    if ref is not None:
        raise _bad(text, where, len(text), "'{' is never closed")
    if buf:
        parts.append(("text", "".join(buf)))
    return Template(text, tuple(parts))


def _bad(text: str, where: str, pos: int, why: str) -> EolinkedError:
    return EolinkedError(
        f"invalid template {text!r} at character {pos}: {why}",
        where=where or None,
        hint="write references as {name}; escape literal braces as \\{ and \\}",
    )
