"""A message shown above a page's content, and the kind that chooses how it looks.

Views pick the kind where they know what happened; templates style by `kind`, never by reading
the message (`templates/partials/notice.html` renders one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NoticeKind = Literal["ok", "error", "info"]


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind  # ok: it is done; error: it was refused or failed; info: worth knowing
    text: str

    @property
    def role(self) -> str:
        """Errors interrupt a screen reader (alert); the others wait their turn (status)."""
        return "alert" if self.kind == "error" else "status"

    @classmethod
    def ok(cls, text: str) -> Notice:
        return cls("ok", text)

    @classmethod
    def error(cls, text: str) -> Notice:
        return cls("error", text)
