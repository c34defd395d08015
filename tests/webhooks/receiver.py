"""A webhook receiver for the tests: http.server on 127.0.0.1, a random port, in a thread.

Each path has its own secret and the status it answers; every request is recorded with whether its
signature verified (standardwebhooks, as a subscriber would check it).
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Route:
    secret: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


class Receiver:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                route = receiver.routes.get(self.path)
                verified = False
                if route is not None:
                    try:
                        Webhook(route.secret).verify(body, headers)
                        verified = True
                    except WebhookVerificationError:
                        pass
                with receiver.lock:
                    receiver.received.append(Received(self.path, headers, body, verified))
                if route is not None and route.delay:
                    time.sleep(route.delay)
                self.send_response(route.status if route is not None else 404)
                for name, value in (route.headers if route is not None else {}).items():
                    self.send_header(name, value)
                answer = route.body if route is not None else b"no such path"
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def listen(self, path: str, secret: str, **answer) -> str:
        self.routes[path] = Route(secret, **answer)
        return self.url(path)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]
