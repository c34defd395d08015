"""An e-mail backend for the reliability tests' worker: one JSON line per message, in a file the test reads.

The worker is another process, so Django's in-memory outbox cannot be seen from the test. Appending
one short line per message (O_APPEND) keeps concurrent pool processes from mixing their lines.
"""

import json
import os

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        path = os.environ["RELIABILITY_MAILBOX"]
        for message in email_messages:
            line = json.dumps({"to": message.to, "subject": message.subject}, ensure_ascii=False) + "\n"
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line.encode("utf-8"))
            finally:
                os.close(descriptor)
        return len(email_messages)


def read(path) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
    except FileNotFoundError:
        return []
