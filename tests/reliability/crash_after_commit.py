"""A web process that dies between COMMIT and handing its work to the broker (issue #23's 336 s).

Started only by tests/reliability/test_worker_faults.py: `python -m tests.reliability.crash_after_commit
ORDER_ID ACTOR_ID`. It issues the order's addendum like a request would; after the commit, the outbox
marks the first message handed over and, at the moment it would publish it, the process is killed
(SIGKILL: nothing runs after it). So one message is marked handed over and was never published, and the
others were never marked at all.
"""

import os
import signal
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from core.tasks import deliver_outbox_message  # noqa: E402
from ordering import services  # noqa: E402
from ordering.models import AccessOrder  # noqa: E402


def die_instead_of_publishing(args, **options):
    print(args[0], flush=True)  # which message was marked handed over, for the test
    os.kill(os.getpid(), signal.SIGKILL)


deliver_outbox_message.apply_async = die_instead_of_publishing  # how core.outbox.outbox_dispatch publishes
order = AccessOrder.objects.get(pk=int(sys.argv[1]))
actor = get_user_model().objects.get(pk=int(sys.argv[2]))
services.order_issue_addendum(order=order, actor=actor)
sys.exit("the process was to die after the commit, before publishing")
