"""Stored text inside Markdown: shown exactly as typed, never as markup (DESIGN §10).

Streamlit renders Markdown in far more places than `st.markdown`: captions, titles and
headers, alerts and toasts, metric labels and values, expander and page-link labels, the
labels, help texts and radio options of widgets. A company name such as
`![s](http://host/x.png)` in any of them makes every viewer's browser fetch that address.
`escape_markdown` is the one way a stored value (a name, key, site, sector, note, actor, or a
refusal message that quotes one) meets such a call; `md` fills a translated message with
escaped values. Selectbox and multiselect options, `st.text`, `st.code` and dataframe cells
are plain text: they take the value as it is.

Backslash escapes alone are not enough. Streamlit's renderer also rewrites the *text* that
Markdown leaves after parsing, where escapes are already gone: `:material_x:` becomes an
icon, `:streamlit:` a logo, bare `http://…`, `www.…` and `a@b.c` become links, and `->`,
`--`, `>=`, `<=`, `~=` become arrows and dashes. So the characters that start those patterns
are also wrapped in `:color[…]`, Streamlit's colour directive, which without a colour is a
plain `<span>`: it splits the text where the pattern would match and changes nothing on
screen (the browser test checks the text as shown).
"""

from __future__ import annotations

from typing import Any

from ui.i18n import DEFAULT_LANGUAGE, error_text, t

#: CommonMark lets any ASCII punctuation character be backslash-escaped, and every one of
#: them starts some syntax (emphasis, links, images, HTML, entities, code, tables, lists,
#: headings, LaTeX `$`, Streamlit's `:directives[…]`), so all of them are escaped.
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
#: Character pairs Streamlit turns into typographic symbols (→ ← — ≥ ≤ ≈).
_TYPOGRAPHIC_PAIRS = frozenset({"<-", "->", "--", ">=", "<=", "~="})
_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " ", "\t": " ", "\v": " ", "\f": " "})


def _splits_a_pattern(text: str, i: int) -> bool:
    """Whether text[i] starts an icon, logo, emoji, link or typographic pattern."""
    c = text[i]
    if c in ":@":  # :material_x: :streamlit: :smile: http:// mailto-like a@b.c
        return True
    if text[i : i + 2] in _TYPOGRAPHIC_PAIRS:
        return True
    return c == "." and text[max(0, i - 3) : i].lower() == "www"  # www.example.com


def escape_markdown(text: Any) -> str:
    """`text` as Markdown that Streamlit shows literally, on one line.

    Every ASCII punctuation character is backslash-escaped (so no link, image, HTML, LaTeX,
    heading, list or directive can start), line breaks and tabs become spaces (a stored
    value never opens a new block), and the characters that would start one of Streamlit's
    text rewrites are wrapped in a plain `:color[…]` span (see the module docstring).
    """
    value = str(text).replace("\r\n", "\n").translate(_LINE_BREAKS)
    out = []
    for i, c in enumerate(value):
        piece = "\\" + c if c in _ASCII_PUNCTUATION else c
        out.append(f":color[{piece}]" if _splits_a_pattern(value, i) else piece)
    return "".join(out)


def md(key: str, lang: str = DEFAULT_LANGUAGE, /, **values: Any) -> str:
    """The message `key` (see `ui.i18n.t`) for a Markdown-rendering call: its own text as
    written, every placeholder value escaped with `escape_markdown`."""
    return t(key, lang, **{name: escape_markdown(value) for name, value in values.items()})


def refusal(
    error: object, lang: str = DEFAULT_LANGUAGE, key: str | None = None, /, **values: Any
) -> str:
    """A refusal for a Markdown-rendering call (`st.error`, ...), in `lang`: rendered from its
    code and values (`ui.i18n.error_text`), alone or as the `{detail}` of the message `key`.
    Refusals quote what was typed, so the detail and every value are escaped."""
    detail = error_text(error, lang)
    if key is None:
        return escape_markdown(detail)
    return md(key, lang, detail=detail, **values)
