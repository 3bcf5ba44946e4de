"""Evaluation of the RAG pipeline: gold loader, metrics and report.

Stdlib only (plus matplotlib, imported lazily by :mod:`eval.report`); nothing here
imports ``rag`` — the app and its evaluation stay apart.
"""
from __future__ import annotations

from .gold import GoldItem, load_gold, load_texts, normalize, read_seed
from .judge import answer_correct, citation_correct, per_item
from .metrics import (
    answer_accuracy,
    citation_accuracy,
    latency_p50,
    latency_p95,
    percentile,
    refusal_precision,
    refusal_recall,
    summarize,
)
from .results import load_results
from .retrieval_metrics import first_hit_rank, hit_at_k, mrr, span_contains
from .report import write_report, write_summary_json

__all__ = [
    "GoldItem",
    "load_gold",
    "load_texts",
    "normalize",
    "read_seed",
    "answer_accuracy",
    "answer_correct",
    "citation_accuracy",
    "citation_correct",
    "first_hit_rank",
    "hit_at_k",
    "latency_p50",
    "latency_p95",
    "load_results",
    "mrr",
    "per_item",
    "percentile",
    "refusal_precision",
    "refusal_recall",
    "span_contains",
    "summarize",
    "write_report",
    "write_summary_json",
]
