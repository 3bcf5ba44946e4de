"""A conversation: questions in order, each follow-up ("那慈溪呢?", "2019年呢?")
understood from the previous turn. The app and the CLI both use this object."""
from __future__ import annotations

from dataclasses import dataclass, field

from .answer import Answerer
from .query import Query
from .types import Answer


@dataclass
class Conversation:
    answerer: Answerer
    report: str | None = None  # optional report filter for every turn
    turns: list[tuple[Query, Answer]] = field(default_factory=list)

    @property
    def last_query(self) -> Query | None:
        return self.turns[-1][0] if self.turns else None

    def ask(self, question: str, k: int = 5, on_token=None) -> Answer:
        answer, q = self.answerer.ask(question, report=self.report, k=k, prev=self.last_query, on_token=on_token)
        self.turns.append((q, answer))
        return answer

    def reset(self) -> None:
        self.turns.clear()
