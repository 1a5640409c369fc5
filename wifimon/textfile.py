"""Operator files (config, inventory, rules, secrets, templates) read as text in one way.

UTF-8, or what a byte-order mark declares (UTF-8, UTF-16 LE/BE as spreadsheets save it);
no other encoding is guessed. Anything else is a ConfigError naming the file, line and
column, so a bad file stops start-up or refuses a reload with a message, not a traceback.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from wifimon.errors import ConfigError

# Longest first: a UTF-32 LE mark begins with the UTF-16 LE one.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF16_LE, "UTF-16-LE"),
    (codecs.BOM_UTF16_BE, "UTF-16-BE"),
)
CSV_HINT = "save it as UTF-8: in a spreadsheet, 'CSV UTF-8'"
TEXT_HINT = "save it as UTF-8: in an editor, choose the encoding UTF-8"
NUL = "a NUL byte: not UTF-8 text (UTF-16 is read only with its byte-order mark)"


def read_operator_text(path: Path, secret: bool = False) -> str:
    """The text of a file an operator wrote; a `secret` file's errors show no byte of it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    return decode_operator_text(data, str(path), secret)


def decode_operator_text(data: bytes, filename: str, secret: bool = False) -> str:
    """Bytes to text by the rule above; raises ConfigError naming `filename`."""
    hint = CSV_HINT if filename.lower().endswith(".csv") else TEXT_HINT
    mark, encoding = _declared(data)
    if encoding == "UTF-32":
        raise ConfigError(f"{filename}: UTF-32 text is not read; {hint}")
    body = data[len(mark) :]
    bad: int | None = None
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        text, bad = body[: exc.start].decode(encoding), body[exc.start]
    if "\0" in text:  # UTF-16 without its mark, or no text at all
        where = text_position(text[: text.index("\0")], filename, secret)
        raise ConfigError(f"{where}: {NUL}; {hint}")
    if bad is not None:
        label = encoding.removesuffix("-LE").removesuffix("-BE")
        byte = "" if secret or label != "UTF-8" else f" (byte 0x{bad:02X})"
        where = text_position(text, filename, secret)
        raise ConfigError(f"{where}: not valid {label}{byte}; {hint}")
    return text


def _declared(data: bytes) -> tuple[bytes, str]:
    """The byte-order mark and the encoding it declares (UTF-8 without a mark)."""
    for mark, encoding in BOMS:
        if data.startswith(mark):
            return mark, encoding
    return b"", "UTF-8"


def text_position(before: str, filename: str, secret: bool = False) -> str:
    """`file:line:column` (1-based, in characters) of what follows `before`; no column
    for a secret, whose length is nobody's business. A line ends in LF, CRLF or a lone CR."""
    before = before.replace("\r\n", "\n").replace("\r", "\n")
    line = before.count("\n") + 1
    if secret:
        return f"{filename}:{line}"
    column = len(before) - (before.rfind("\n") + 1) + 1
    return f"{filename}:{line}:{column}"
