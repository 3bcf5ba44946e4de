"""Settings, built once from the environment and passed in; nothing else reads ``os.environ``.

Importing this module sets the offline flags: the project never fetches from a model hub
on its own. A bad value (``RAG_LLM_TIMEOUT=abc``, a URL without a model) does not stop
anything: it is kept as a one-line ``problems`` entry, shown to the user, and the part it
configures falls back (extractive answers, default limits).

The scoring weights live here too, as config dataclasses with documented defaults; every
eval run records the values it used.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chroma
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RetrievalWeights:
    """How retrieval ranks passages and sentences (defaults tuned on the dev gold halves)."""

    k_dense: int = 30  # passages taken from the vector store
    k_sparse: int = 30  # passages taken from BM25
    sparse_weight: float = 1.5  # BM25's weight in reciprocal-rank fusion (dense is 1.0)
    rrf_k: int = 60  # reciprocal-rank fusion constant
    n_rescore: int = 14  # passages whose sentences are re-scored
    section_match: float = 1.25  # a passage in the asked part (plan for targets, review for results)
    section_mismatch: float = 0.8  # a passage in the other part
    # sentence score = dense * s_dense + lexical * s_lexical + passage * s_passage + bonuses
    s_dense: float = 0.35
    s_lexical: float = 0.35
    s_passage: float = 0.15
    bonus_indicator: float = 0.15  # the sentence names an asked indicator
    bonus_figure: float = 0.05  # a figure question and the sentence has a figure
    bonus_near: float = 0.08  # the asked indicator is followed closely by a figure
    bonus_year: float = 0.08  # the sentence or its section names the asked year
    penalty_other_year: float = 0.08  # its section names only other years
    penalty_period: float = 0.2  # a multi-year figure (五年/累计/年均) for a one-year question
    bonus_list_count: float = 0.15  # a list question's count ("哪五个") matches the sentence's enumeration
    bonus_definition: float = 1.0  # a "what is X" question: the sentence defining X ("“五减”是指…") above any mention of it
    bonus_phrase: float = 0.25  # × the longest stretch of the question's own words found in the sentence (0–1)
    passage_mix: float = 0.4  # final passage score: mix * fused + (1 - mix) * best sentence


@dataclass(frozen=True)
class AnswerWeights:
    """When a sentence counts as an answer, and how long answers are."""

    min_lexical: float = 0.34  # share of the question's key terms a supporting sentence must hold
    min_lexical_named: float = 0.15  # … when it names the asked indicator itself
    max_answer_chars: int = 300  # an answer is one or two sentences
    max_summary_lines: int = 8  # lines of a section-summary answer
    summary_key_figures: int = 5  # sentences with the most figures added after a summary's sub-heads
    candidates: int = 12  # re-scored sentences examined for support
    question_tokens: int = 200  # longer questions are cut (with a note)


BACKENDS = ("auto", "torch", "torch-bf16", "onnx", "onnx-int8")


@dataclass(frozen=True)
class EmbedSettings:
    model: str = ""  # "" = the packaged multilingual-e5-small
    # auto | torch | torch-bf16 | onnx | onnx-int8 (a local model); ignored with base_url.
    # auto = torch-bf16 on a CPU with bfloat16 matrix units (AMX), else torch (see embed.py)
    backend: str = "auto"
    base_url: str = ""  # an OpenAI-compatible /v1/embeddings server
    api_key: str = ""
    remote_model: str = ""  # the model name the server serves
    threads: int = 1  # for a question; indexing uses every CPU (index_threads)
    index_threads: int = 0  # 0 = one per CPU
    batch: int = 32
    timeout: float = 60.0


@dataclass(frozen=True)
class Settings:
    home: Path
    seeds: Path
    models_dir: Path
    prompts: Path
    chroma_url: str = ""
    collection: str = "reports"
    embed: EmbedSettings = EmbedSettings()
    llm: object | None = None  # rag.llm.LLMConfig
    max_file_mb: float = 20.0
    host: str = "127.0.0.1"
    port: int = 7860
    app_concurrency: int = 3
    request_timeout: float = 90.0  # a whole answer (LLM included) never takes longer
    retrieval: RetrievalWeights = RetrievalWeights()
    answer: AnswerWeights = AnswerWeights()
    problems: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        problems: list[str] = []

        def get(name: str, default: str = "") -> str:
            return (env.get(name) or default).strip()

        def num(name: str, default: float, cast=float, minimum: float | None = None):
            raw = get(name)
            if not raw:
                return default
            try:
                v = cast(raw)
            except ValueError:
                problems.append(f"{name}={raw!r} is not a number; using {default}")
                return default
            if minimum is not None and v < minimum:
                problems.append(f"{name}={raw!r} is below {minimum}; using {default}")
                return default
            return v

        home = Path(get("RAG_HOME")).expanduser().resolve() if get("RAG_HOME") else (
            REPO_ROOT / ".rag" if (REPO_ROOT / "pyproject.toml").exists() else Path.home() / ".rag")
        seeds = Path(get("RAG_SEEDS")).expanduser().resolve() if get("RAG_SEEDS") else REPO_ROOT / "seeds"
        models = Path(get("RAG_MODELS_DIR")).expanduser().resolve() if get("RAG_MODELS_DIR") else home / "models"
        backend = get("RAG_EMBED_BACKEND", "auto").lower()
        if backend not in BACKENDS:
            problems.append(f"RAG_EMBED_BACKEND={backend!r} is not {', '.join(BACKENDS)}; using auto")
            backend = "auto"
        embed = EmbedSettings(
            model=get("RAG_EMBED_MODEL"),
            backend=backend,
            base_url=get("RAG_EMBED_BASE_URL").rstrip("/"),
            api_key=get("RAG_EMBED_API_KEY"),
            remote_model=get("RAG_EMBED_REMOTE_MODEL"),
            threads=num("RAG_TORCH_THREADS", 1, int, 1),
            index_threads=num("RAG_INDEX_THREADS", 0, int, 0),
            batch=num("RAG_EMBED_BATCH", 32, int, 1),
            timeout=num("RAG_EMBED_TIMEOUT", 60.0, float, 0.1),
        )
        llm = None
        try:
            from .llm import LLMError, config_from_env

            llm = config_from_env(env)
        except LLMError as e:
            problems.append(f"LLM off: {e}")
        return cls(
            home=home,
            seeds=seeds,
            models_dir=models,
            prompts=REPO_ROOT / "prompts",
            chroma_url=get("RAG_CHROMA_URL"),
            collection=get("RAG_COLLECTION", "reports"),
            embed=embed,
            llm=llm,
            max_file_mb=num("RAG_MAX_FILE_MB", 20.0, float, 0.001),
            host=get("RAG_HOST", "127.0.0.1"),
            port=num("RAG_PORT", 7860, int, 1),
            app_concurrency=num("RAG_APP_CONCURRENCY", 3, int, 1),
            request_timeout=num("RAG_REQUEST_TIMEOUT", 90.0, float, 1.0),
            problems=tuple(problems),
        )

    def record(self) -> dict:
        """What an eval run records: every setting that changes an answer (no secrets)."""
        return {
            "embed": {k: v for k, v in asdict(self.embed).items() if k != "api_key"},
            "chroma": "server" if self.chroma_url else "local",
            "llm": repr(self.llm) if self.llm else None,
            "retrieval": asdict(self.retrieval),
            "answer": asdict(self.answer),
        }


_current: Settings | None = None


def current() -> Settings:
    """The process's settings (built on first use; ``reset()`` rebuilds them)."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def reset() -> None:
    global _current
    _current = None
