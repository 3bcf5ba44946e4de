"""Structured, cited summaries of one report (``rag summarize``).

model (the Summary type) → extractive (built from what the index knows: figures, sections,
lead sentences) → llm (an optional overview written by an LLM, number-guarded) → render
(Markdown, escaped) → service (resolution through the corpus, cache) → cli.
"""
from .model import Summary, SummaryLine  # noqa: F401
from .service import summarize, summarize_all  # noqa: F401
