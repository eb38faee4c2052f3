"""A tiny HTML element collector for report tests (tag, attributes, enclosing chart)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

__all__ = ["Element", "parse_elements"]


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    chart: str | None  # data-chart of the enclosing <svg>, if any

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self._charts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "svg":
            self._charts.append(values.get("data-chart", ""))
        self.elements.append(Element(tag, values, self._charts[-1] if self._charts else None))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self._charts:
            self._charts.pop()


def parse_elements(page: str) -> list[Element]:
    collector = _Collector()
    collector.feed(page)
    return collector.elements
