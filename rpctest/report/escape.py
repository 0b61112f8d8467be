"""Text a service wrote, made safe for each report format.

A fuzzed service echoes whatever it was sent, control characters and all, and a report must stay
valid whatever it quotes (issue 20: a JUnit file with a raw U+0001 did not parse). The rules:

- **XML 1.0** cannot hold the C0 controls other than tab, newline and carriage return, the
  surrogates (U+D800 to U+DFFF, which a Python string can hold unpaired) or U+FFFE and U+FFFF, not
  even as character references. Each is written as the text ``\\xNN`` (below U+0100) or ``\\uNNNN``:
  :func:`printable` is that mapping, and what a parser reads back equals ``printable(original)``.
  Everything else is kept exactly, a carriage return included (written as ``&#13;``, which a parser
  does not turn into a newline).
- **GitHub workflow commands** are one line each: :func:`github_data` and :func:`github_property`
  escape as the Actions runner unescapes (``%25``, ``%0D``, ``%0A``; in properties also ``%3A`` and
  ``%2C``), after :func:`one_line_safe`, which writes the other characters some line readers break
  on (vertical tab, form feed, U+001C to U+001E, U+0085, U+2028, U+2029) and the unpaired
  surrogates, which cannot be written as UTF-8, the same way as :func:`printable`.
- **Markdown** (a GitHub step summary): :func:`markdown_inline` backslash-escapes every ASCII
  punctuation character and writes a newline as ``<br>``; :func:`markdown_block` fences text with
  more backticks than it holds in a row.
"""

from __future__ import annotations

import re

__all__ = ["printable", "one_line_safe", "xml_text", "xml_attribute", "github_data", "github_property",
           "markdown_inline", "markdown_block"]

#: characters XML 1.0 cannot hold, even as character references
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: characters a line reader may break a line at, besides \r and \n, and unpaired surrogates
_NOT_ONE_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x85\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_ASCII_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with each character XML 1.0 cannot hold written as ``\\xNN`` or ``\\uNNNN``."""
    return _NOT_XML.sub(_escape_char, text)


def one_line_safe(text: str) -> str:
    """``text`` with the characters that may break a line (other than \\r and \\n, which the format
    escapes itself) and unpaired surrogates written as ``\\xNN`` or ``\\uNNNN``."""
    return _NOT_ONE_LINE.sub(_escape_char, text)


def xml_text(text: str) -> str:
    """Character data for an XML element."""
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def xml_attribute(text: str) -> str:
    """A double-quoted XML attribute value; whitespace is kept as character references (a parser
    would otherwise normalise it to spaces)."""
    return (
        xml_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    )


def github_data(text: str) -> str:
    """The message of a workflow command (after the second ``::``)."""
    return one_line_safe(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property value of a workflow command (``file=``, ``title=``)."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def markdown_inline(text: str) -> str:
    """Text for a Markdown paragraph or table cell, shown as written."""
    escaped = _ASCII_PUNCTUATION.sub(r"\\\1", printable(text))
    return escaped.replace("\r\n", "<br>").replace("\r", "<br>").replace("\n", "<br>")


def markdown_block(text: str) -> str:
    """A fenced code block showing ``text`` as written."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{printable(text)}\n{fence}"
