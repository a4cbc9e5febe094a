"""Markdown to safe HTML: rendered with markdown-it-py, sanitized with nh3, once at save time."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "figcaption", "figure", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"scope"},
    "ol": {"start"},
}

# html=False: raw HTML in Markdown is shown as text, and nh3 still cleans whatever comes out.
_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True}).enable(
    ["table", "strikethrough"]
)


def render_markdown(source: str) -> str:
    """Render Markdown and strip anything that could run script or load foreign content."""
    html = _renderer.render(source)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def markdown_to_text(source: str) -> str:
    """The plain-text reading of Markdown, for an email's text part: the words a reader sees in
    the HTML part with no Markdown syntax left. `[words](url)` becomes `words (url)` and a bare
    link its address; escapes, emphasis and heading marks go; list items keep `-` or their
    number, quotes keep `>`, table rows read `a | b`."""
    blocks: list[str] = []
    separators: list[str] = []  # what joins each block to the one before it
    quotes = 0
    lists: list[list[int]] = []  # per open list: [next number], 0 for bullets
    marker = ""
    new_list = False
    row: list[str] | None = None
    rows = 0

    def add(text: str, *, tight: bool = False) -> None:
        nonlocal marker, new_list
        if lists:
            indent = "   " * (len(lists) - 1)
            lead = indent + marker
            rest = " " * len(lead)
            lines = text.split("\n")
            text = "\n".join([lead + lines[0], *(rest + line for line in lines[1:])])
            marker = ""
            tight = not new_list
            new_list = False
        if quotes:
            text = "\n".join(("> " * quotes + line).rstrip() for line in text.split("\n"))
        blocks.append(text)
        separators.append("\n" if tight else "\n\n")

    for token in _renderer.parse(source):
        kind = token.type
        if kind == "blockquote_open":
            quotes += 1
        elif kind == "blockquote_close":
            quotes -= 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            new_list = new_list or not lists
            start = token.attrGet("start") if kind == "ordered_list_open" else None
            lists.append([int(str(start or 1)) if kind == "ordered_list_open" else 0])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            number = lists[-1][0]
            marker = f"{number}. " if number else "- "
            if number:
                lists[-1][0] = number + 1
        elif kind == "table_open":
            rows = 0
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            add(" | ".join(row), tight=rows > 0)
            rows += 1
            row = None
        elif kind == "inline":
            if row is not None:
                row.append(_inline_text(token))
            else:
                add(_inline_text(token))
        elif kind in ("fence", "code_block"):
            add(token.content.rstrip("\n"))
        elif kind == "hr":
            add("---")
    return "".join((separators[i] if i else "") + block for i, block in enumerate(blocks)).strip(
        "\n"
    )


def _inline_text(token: Token) -> str:
    out: list[str] = []
    links: list[tuple[str, int]] = []
    for child in token.children or []:
        kind = child.type
        if kind in ("text", "code_inline"):
            out.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "link_open":
            links.append((str(child.attrGet("href") or ""), len(out)))
        elif kind == "link_close" and links:
            href, start = links.pop()
            words = "".join(out[start:]).strip()
            out[start:] = [words]
            if href and words not in (href, href.removeprefix("mailto:")):
                out.append(f" ({href})")
        elif kind == "image":
            src = str(child.attrGet("src") or "")
            out.append(f"{child.content} ({src})" if child.content else src)
    return "".join(out)
