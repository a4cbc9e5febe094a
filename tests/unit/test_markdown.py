from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from membership.services.markdown import markdown_to_text, render_markdown

FORBIDDEN_TAGS = {"script", "iframe", "style", "object", "embed", "svg", "math", "form", "input"}


class ActiveContentFinder(HTMLParser):
    """Parses HTML as a browser would and lists everything that could run or load foreign code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "srcdoc", "formaction"}:
                self.found.append(f"{tag}[{name}]")
            if name in {"href", "src"} and value is not None:
                # As a browser reads a URL: tabs and newlines vanish, edges are trimmed.
                cleaned = re.sub(r"[\t\n\r]", "", value).strip("".join(map(chr, range(33))))
                match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", cleaned)
                scheme = match.group(1).lower() if match else ""
                if scheme not in {"", "http", "https", "mailto"}:
                    self.found.append(f"{tag}[{name}={value}]")


def active_content(html: str) -> list[str]:
    finder = ActiveContentFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def test_markdown_renders_the_usual_things() -> None:
    html = render_markdown(
        "## Heading\n\nSome *emphasis* and **strong** text, a [link](https://example.org/x).\n\n"
        "> A quote\n\n- one\n- two\n"
    )
    assert "<h2>Heading</h2>" in html
    assert "<em>emphasis</em>" in html
    assert "<strong>strong</strong>" in html
    assert '<a href="https://example.org/x" rel="noopener noreferrer nofollow">link</a>' in html
    assert "<blockquote>" in html
    assert "<li>one</li>" in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "Hello <img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](  javascript:alert(1) )",
        "![x](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<div onclick="alert(1)">x</div>',
        "<svg><script>alert(1)</script></svg>",
    ],
)
def test_markdown_cannot_inject_script(source: str) -> None:
    html = render_markdown(source)
    assert active_content(html) == [], html


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["<script>", "</script>", "<img src=x onerror=alert(1)>", "javascript:", "[a](", ")",
             "<", ">", '"', "'", "on", "click=", "\n\n", "**", "`", "<a href='", "x", "](", "!["]
        )
        | st.text(max_size=20),
        max_size=25,
    ).map("".join)
)  # fmt: skip
def test_no_markdown_input_produces_script(source: str) -> None:
    assert active_content(render_markdown(source)) == []


def test_the_checker_itself_sees_active_content() -> None:
    assert active_content('<a href="javascript:x">a</a><img src=x onerror=y><script></script>') == [
        "a[href=javascript:x]",
        "img[onerror]",
        "<script>",
    ]


def test_markdown_reads_as_plain_text_with_each_link_s_address() -> None:
    source = (
        "## A note\n\nDear \\*Ada\\*, *thank* **you**: [Give $5 a month](https://x.org/go?a=1&b=2)."
        "\n\nYour receipts are at https://x.org/account and <https://x.org/faq>.\n\n"
        "> A quote with [a link](https://x.org/q)\n\n- one\n- two [t](https://x.org/t)\n\n"
        "1. first\n2. second\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "Write to [us](mailto:desk@x.org) or desk@x.org, ![a chart](https://x.org/c.png)"
    )
    assert markdown_to_text(source) == (
        "A note\n\nDear *Ada*, thank you: Give $5 a month (https://x.org/go?a=1&b=2).\n\n"
        "Your receipts are at https://x.org/account and https://x.org/faq.\n\n"
        "> A quote with a link (https://x.org/q)\n\n- one\n- two t (https://x.org/t)\n\n"
        "1. first\n2. second\n\na | b\n1 | 2\n\n"
        "Write to us (mailto:desk@x.org) or desk@x.org, a chart (https://x.org/c.png)"
    )


@given(
    st.text(alphabet="abcdefghij KLMNOP0123456789$,.'", min_size=1, max_size=40).filter(
        lambda words: words.strip() not in ("", ".", ",")
    ),
    st.from_regex(r"https://[a-z]{1,10}\.org/[a-z0-9/?=&]{0,30}", fullmatch=True),
)
@settings(max_examples=100)
def test_any_link_reads_as_its_words_and_its_address(words: str, url: str) -> None:
    text = markdown_to_text(f"Before [{words}]({url}) after")
    assert text == f"Before {words.strip()} ({url}) after"
