"""The exception the format readers raise internally.

Readers deep inside a file do not know (or need) the file's path; the public
entry point turns a FormatProblem into a CheckpointError that names the file.
"""


class FormatProblem(Exception):
    """Something in the file is malformed, unsupported or unsafe."""


_SHOWN_CHARACTERS = 80


def shown(value) -> str:
    """A short, always-printable rendering of a value taken from the file.

    Values in a hostile file can be megabyte strings or integers too long
    for str() (Python refuses more than 4300 digits); messages must not
    fail or balloon because of them.
    """
    if isinstance(value, (str, bytes)):
        if len(value) <= _SHOWN_CHARACTERS:
            return repr(value)
        return repr(value[:_SHOWN_CHARACTERS]) + "..."
    if type(value) is int:
        return repr(value) if value.bit_length() <= 128 else "a very large integer"
    kind = type(value).__name__
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


_CLIPPED_CHARACTERS = 300


def clipped(text: str, limit: int = _CLIPPED_CHARACTERS) -> str:
    """Free text that may carry file data (a global's name, a parser's error
    message), made safe to print: control characters escaped, length cut."""
    printable = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text[: limit + 1])
    return printable if len(text) <= limit else printable[:limit] + "..."
