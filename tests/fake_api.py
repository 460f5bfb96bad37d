"""A local OpenAI-compatible chat server for tests: it can fail, hang or answer."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def label_reply(prompt: str) -> str:
    """A deterministic multiple-choice answer for a prompt."""
    return "答え：" + "ABCD"[int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % 4]


class FakeAPI:
    """A chat-completions server: each distinct prompt first gets ``failures`` errors (429, then
    500, …); after ``hang_after`` answers every request hangs (to kill the client mid-run)."""

    def __init__(
        self,
        failures: int = 0,
        hang_after: int | None = None,
        reply: Callable[[str], str] = label_reply,
        before_answer: Callable[[int], bool] | None = None,
    ) -> None:
        """``before_answer(n)`` runs before the answer to the request that would be the n-th
        answered (from 0): a test can kill its client there; True drops the request."""
        self.failures, self.hang_after, self.reply = failures, hang_after, reply
        self.before_answer = before_answer
        self.errors: Counter[str] = Counter()
        self.answered: list[str] = []
        self.auth: set[str] = set()
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = json.dumps(body["messages"], ensure_ascii=False)
                with api.lock:
                    api.auth.add(self.headers.get("Authorization", ""))
                    fail = api.errors[prompt] < api.failures
                    if fail:
                        api.errors[prompt] += 1
                    hang = api.hang_after is not None and len(api.answered) >= api.hang_after
                if hang:
                    time.sleep(60)
                    return
                if (
                    api.before_answer is not None
                    and not fail
                    and api.before_answer(len(api.answered))
                ):
                    return  # dropped unanswered
                if fail:
                    code = 429 if api.errors[prompt] % 2 else 500
                    self.send_response(code)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "try again"}}')
                    return
                reply = {
                    "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": api.reply(prompt)}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
                }  # fmt: skip
                data = json.dumps(reply).encode()
                with api.lock:
                    api.answered.append(prompt)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
