"""Token usage: what agents report with each completion, totalled with its cost.

An agent may report the tokens a task used when it completes it. Each report is
charged at the agent's own price when it has one, else at the swarm's price (both per
1,000 tokens), at the moment of completion: a later price change applies to later
completions only. Totals are kept per agent, per task kind and per tenant, so each
breakdown sums to the same grand total (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["TokenLedger", "TokenTotals", "UsageLine"]

NO_KIND = "(none)"  # tasks submitted without a kind are totalled under this name


@dataclass(slots=True)
class UsageLine:
    """Tokens and cost of the completions that reported tokens, and how many did."""

    tokens: int = 0
    cost: float = 0.0
    completions: int = 0

    def add(self, tokens: int, cost: float) -> None:
        self.tokens += tokens
        self.cost += cost
        self.completions += 1


@dataclass(frozen=True, slots=True)
class TokenTotals:
    """A frozen copy of the ledger: the grand total and its three breakdowns."""

    total: UsageLine
    by_agent: dict[str, UsageLine] = field(default_factory=dict)
    by_kind: dict[str, UsageLine] = field(default_factory=dict)
    by_tenant: dict[str, UsageLine] = field(default_factory=dict)
    price_per_1k: float = 0.0


class TokenLedger:
    """Running totals; `record` is O(1)."""

    __slots__ = ("by_agent", "by_kind", "by_tenant", "price_per_1k", "total")

    def __init__(self, price_per_1k: float = 0.0) -> None:
        self.price_per_1k = price_per_1k
        self.total = UsageLine()
        self.by_agent: dict[str, UsageLine] = {}
        self.by_kind: dict[str, UsageLine] = {}
        self.by_tenant: dict[str, UsageLine] = {}

    def record(
        self, agent: str, kind: str | None, tenant: str, tokens: int, agent_price: float | None
    ) -> float:
        """Add one completion's tokens; returns its cost."""
        price = self.price_per_1k if agent_price is None else agent_price
        cost = tokens * price / 1000.0
        self.total.add(tokens, cost)
        for table, key in (
            (self.by_agent, agent),
            (self.by_kind, kind or NO_KIND),
            (self.by_tenant, tenant),
        ):
            line = table.get(key)
            if line is None:
                line = table[key] = UsageLine()
            line.add(tokens, cost)
        return cost

    def totals(self) -> TokenTotals:
        def copy(table: dict[str, UsageLine]) -> dict[str, UsageLine]:
            return {k: UsageLine(v.tokens, v.cost, v.completions) for k, v in table.items()}

        t = self.total
        return TokenTotals(
            UsageLine(t.tokens, t.cost, t.completions),
            copy(self.by_agent),
            copy(self.by_kind),
            copy(self.by_tenant),
            self.price_per_1k,
        )

    def to_doc(self) -> dict[str, Any]:
        """JSON-ready totals (for snapshots and restore)."""

        def table(lines: dict[str, UsageLine]) -> dict[str, list[float]]:
            return {k: [v.tokens, v.cost, v.completions] for k, v in lines.items()}

        return {
            "price_per_1k": self.price_per_1k,
            "total": [self.total.tokens, self.total.cost, self.total.completions],
            "by_agent": table(self.by_agent),
            "by_kind": table(self.by_kind),
            "by_tenant": table(self.by_tenant),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> TokenLedger:
        ledger = cls(float(doc.get("price_per_1k", 0.0)))

        def line(v: list[float]) -> UsageLine:
            return UsageLine(int(v[0]), float(v[1]), int(v[2]))

        ledger.total = line(doc.get("total", [0, 0.0, 0]))
        for name in ("by_agent", "by_kind", "by_tenant"):
            setattr(ledger, name, {k: line(v) for k, v in doc.get(name, {}).items()})
        return ledger
