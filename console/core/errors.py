"""Domain errors: a stable id and the values its message needs, nothing about HTTP or language.

The web layer (`console.web.errors`) maps each id to its HTTP status and renders the message
in the reader's language from the catalog entry `error.<id>`.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal by the domain, named by a stable id (the catalog key is `error.<id>`).

    `detail` fills the `{detail}` placeholder of the message; `params` fill any other named
    placeholders. Subclasses with more to say on the wire return it from `data()`: ids,
    fields and rows, never sentences.
    """

    def __init__(self, error_id: str, detail: str = "", **params: object) -> None:
        super().__init__(f"{error_id}: {detail}" if detail else error_id)
        self.error_id = error_id
        self.detail = detail
        self.params = params

    def data(self) -> dict[str, object]:
        """Extra wire data beside the id and the message (none by default)."""
        return {}
