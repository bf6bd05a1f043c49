"""User text made safe for Graphviz's HTML-like labels (render and placement both write them)."""

from __future__ import annotations

import html
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def html_text(text: str) -> str:
    """Any user text as the content of an HTML-like DOT label: shown as text, never read as markup."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates
    text = text.replace("\r\n", "\n").replace("\t", " ")
    text = html.escape(text, quote=True).replace("\\", "\\\\")  # dot reads \N, \G... even here; \\ is one \
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.replace("\n", "<br/>")
