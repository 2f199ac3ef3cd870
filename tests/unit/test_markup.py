"""`ui.markup`: stored text escaped for Streamlit's Markdown (DESIGN §10).

What a browser then shows is checked in tests/e2e/test_browser_escaping.py; here, the exact
Markdown the helper writes.
"""

from __future__ import annotations

import re
import string

import pytest

from ui import frames
from ui.markup import escape_markdown, md

URL = "http://127.0.0.1:9999"


def unescaped(markdown: str) -> str:
    """The characters Markdown shows for the helper's output (escapes and spans removed)."""
    return re.sub(r"\\(.)", r"\1", re.sub(r":color\[(\\?.)\]", r"\1", markdown))


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        (f"![s]({URL}/x.png)", r"\!\[s\]\(http:color[\:]\/\/127\.0\.0\.1:color[\:]9999\/x\.png\)"),
        (f"<img src={URL}/z>", r"\<img src\=http:color[\:]\/\/127\.0\.0\.1:color[\:]9999\/z\>"),
        ("$\\href{x}{y}$", r"\$\\href\{x\}\{y\}\$"),
        (":red[alert]", r":color[\:]red\[alert\]"),
        (":material/warning: :material_warning:", r":color[\:]material\/warning:color[\:] :color[\:]material\_warning:color[\:]"),
        ("# heading", r"\# heading"),
        ("> quote", r"\> quote"),
        ("- item", r"\- item"),
        ("1. item", r"1\. item"),
        ("**bold** _it_ ~~s~~ `c`", r"\*\*bold\*\* \_it\_ \~\~s\~\~ \`c\`"),
        ("a | b", r"a \| b"),
        ("&amp; &#60;", r"\&amp\; \&\#60\;"),
        ("a -> b <- c -- d >= e <= f ~= g", r"a :color[\-]\> b :color[\<]\- c :color[\-]\- d :color[\>]\= e :color[\<]\= f :color[\~]\= g"),
        ("www.example.com", r"www:color[\.]example\.com"),
        ("li@example.com", r"li:color[\@]example\.com"),
        ("line\none\r\ntwo\tthree", "line one two three"),
        ("荆门智造科技 JM-0042", r"荆门智造科技 JM\-0042"),
    ],
)  # fmt: skip
def test_escaped_text_is_markdown_that_shows_as_typed(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped
    assert unescaped(escaped) == re.sub(r"\r\n|[\r\n\t]", " ", text)


def test_every_ascii_punctuation_character_is_escaped() -> None:
    escaped = escape_markdown(string.punctuation)
    assert unescaped(escaped) == string.punctuation
    assert re.fullmatch(r"(?:\\.|:color\[\\.\])+", escaped)


def test_the_escaped_text_opens_no_streamlit_pattern() -> None:
    """No text left after parsing holds `:word:` (icons, logo, emoji), a URL scheme, `www.`,
    an e-mail address or a typographic pair: the renderer rewrites those in plain text."""
    text = ":streamlit: :smile: https://x.cn www.x.cn a@b.cn -> <- -- >= <= ~= 12:30"
    # Split where a span starts or ends, as the parser does, then drop the escapes.
    pieces = [unescaped(p) for p in re.split(r":color\[\\.\]", escape_markdown(text))]
    for piece in pieces:
        assert not re.search(r":\w+:|https?:|www\.|\w@\w|->|<-|--|>=|<=|~=", piece), piece


def test_md_escapes_the_values_and_keeps_the_message_markdown() -> None:
    assert md("signin.as", "en", name="*li*") == r"Signed in as **\*li\***"
    assert md("board.refused", "zh", name="[x](y)", detail="z") == r"\[x\]\(y\) 未流转：z"


def test_frames_escape_markdown_is_the_same_helper() -> None:
    assert frames.escape_markdown is escape_markdown
