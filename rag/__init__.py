"""rag: questions, answers with citations, summaries and eval over government work reports.

The pipeline reads from the file list: load → chunk → embed/store → retrieve →
answer/cite → summarise. Heavy libraries are imported lazily inside functions so that
`import rag` and the CLI start fast.
"""
__version__ = "0.1.0"
