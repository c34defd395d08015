"""E-mail settings come from the environment: EMAIL_FILE_PATH for the file backend, a timeout for SMTP."""

import subprocess

from tests.processes import machine_environment, run_python

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"

PROGRAM = """
import django
django.setup()
from django.conf import settings
from django.core.mail import send_mail
if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
    print(settings.EMAIL_TIMEOUT)
else:
    send_mail("Ordre modtaget", "Ordre 2026-0001 er modtaget.", None, ["bestiller@example.test"])
"""


def run_with(**env) -> subprocess.CompletedProcess:
    clean = machine_environment(without={"DJANGO_DEBUG"}, prefixes=("EMAIL_",))
    return run_python(["-c", PROGRAM], base=clean, env=env)


def test_the_file_backend_writes_each_message_to_email_file_path(tmp_path):
    result = run_with(EMAIL_BACKEND=FILE_BACKEND, EMAIL_FILE_PATH=str(tmp_path / "mail"))
    assert result.returncode == 0, result.stderr
    [message] = (tmp_path / "mail").iterdir()
    text = message.read_text()
    assert "To: bestiller@example.test" in text and "Subject: Ordre modtaget" in text


def test_the_file_backend_without_a_directory_is_refused_at_start():
    result = run_with(EMAIL_BACKEND=FILE_BACKEND)
    assert result.returncode != 0
    assert "EMAIL_FILE_PATH is not set" in result.stderr


def test_smtp_gives_up_on_a_silent_server_after_a_timeout():
    assert run_with(EMAIL_HOST="smtp.example.invalid").stdout.strip() == "30"
    assert run_with(EMAIL_HOST="smtp.example.invalid", EMAIL_TIMEOUT="5").stdout.strip() == "5"
