"""The message thread on every order: the customer and KMD write to each other, with attachments.

Who writes: the customer's people (orderer, signatory, user administrator of the order's customer) on the
customer's side; the customer's account manager and support on KMD's. Everyone who sees the order
(selectors.order_for_user) reads its thread. Each message is audited in the same transaction and, after
commit, e-mailed to the other side through the outbox (notifications.OTHER_EVENTS), with a link to the
order and never the attachment.

Attachments pass the shared upload rules (core/uploads.py): read within a cap, their type told by their
content and not their name, and handed back only as a download.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django import forms
from django.db import transaction
from django.db.models import Count, DateTimeField, Prefetch, QuerySet, Window
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.trail import audit_record
from core import uploads
from core.errors import Invalid, NotPermitted
from core.prepared import Prepared
from core.security import NotVisible
from core.transactions import retry_on_conflict

from .audit import ATTACHMENTS, AuditKind
from .models import AccessOrder, Customer, CustomerMembership, OrderMessage, OrderMessageAttachment
from .roles import Role, order_roles
from .selectors import order_for_user
from .services import enqueue_event_notification
from .validators import typed_text_problem, validate_multiline_text

# At most this many files, each at most this large, per message. 5 MB holds a scanned document or a
# screenshot; larger files belong in the customer's and KMD's own file exchange.
MAX_ATTACHMENTS = 3
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
# What a message may carry: documents, pictures, text and tables. Not zip (a certificate chain goes to
# the order's certificate section, where it is checked), not macro-enabled Office files, nothing runnable.
ALLOWED_KINDS = (uploads.PDF, uploads.PNG, uploads.JPEG, uploads.TEXT, uploads.CSV, uploads.DOCX, uploads.XLSX)
ACCEPT = ".pdf,.png,.jpg,.jpeg,.txt,.csv,.docx,.xlsx"

Side = OrderMessage.Side
KIND_OF_SIDE = {Side.CUSTOMER: AuditKind.MESSAGE_FROM_CUSTOMER, Side.KMD: AuditKind.MESSAGE_FROM_KMD}
THREAD_KINDS = tuple(KIND_OF_SIDE.values())
CUSTOMER_ROLES = (Role.ORDERER, Role.SIGNATORY)
KMD_ROLES = (Role.ACCOUNT_MANAGER, Role.SUPPORT)


def writer_role(user, order: AccessOrder) -> Role | None:
    """The role `user` writes to this order's thread in, or None if they may not write to it."""
    roles = order_roles(user, order)
    for role in (*CUSTOMER_ROLES, *KMD_ROLES):
        if role in roles:
            return role
    # A user administrator manages the customer's people and may also talk to KMD about its orders.
    if CustomerMembership.objects.filter(user=user, customer_id=order.customer_id, is_user_admin=True).exists():
        return Role.USER_ADMIN
    return None


def side_of(role: Role) -> Side:
    return Side.KMD if role in KMD_ROLES else Side.CUSTOMER


# --- The attachments -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """An attachment that passed the rules: what is stored of it."""

    filename: str
    kind: uploads.FileKind
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def check_attachments(files: list[tuple[str, bytes, int]]) -> list[Attachment]:
    """The files sent as (name, bytes read, size sent) as attachments, or Invalid naming the first that breaks a
    rule. `bytes read` may stop one byte past the cap (core/uploads.py), `size sent` is the real size."""
    if len(files) > MAX_ATTACHMENTS:
        raise _invalid(
            _("You attached %(count)s files; a message can carry at most %(max)s. Send the rest in another message.")
            % {"count": len(files), "max": MAX_ATTACHMENTS}
        )
    checked = []
    for name, data, size in files:
        shown = uploads.safe_filename(name, None, default=_("the file"))
        if size > MAX_ATTACHMENT_BYTES or len(data) > MAX_ATTACHMENT_BYTES:
            raise _invalid(
                _(
                    "„%(name)s“ is larger than %(max)s, the most an attachment can be. Make it smaller or send it in parts."
                )
                % {"name": shown, "max": filesizeformat(MAX_ATTACHMENT_BYTES)}
            )
        if not data:
            raise _invalid(_("„%(name)s“ is empty. Choose the file again.") % {"name": shown})
        kind = uploads.sniff(data, name)
        if kind not in ALLOWED_KINDS:
            raise _invalid(_refused_kind(shown, kind))
        if kind in (uploads.TEXT, uploads.CSV) and b"PRIVATE KEY-----" in data:
            raise _invalid(
                _(
                    "„%(name)s“ contains a private key. Never send a private key: it stays with the system it "
                    "belongs to. Remove it and attach the file again."
                )
                % {"name": shown}
            )
        checked.append(Attachment(uploads.safe_filename(name, kind.extension, default=_("attachment")), kind, data))
    return checked


def _refused_kind(shown: str, kind: uploads.FileKind | None) -> str:
    if kind is uploads.ZIP:
        return _(
            "„%(name)s“ is a zip file, which a message cannot carry. Upload a certificate chain in the order's "
            "certificate section; attach other files one by one."
        ) % {"name": shown}
    if kind is uploads.NOT_UTF8_TEXT:
        return _(
            "„%(name)s“ is text that is not saved as UTF-8. In Excel, save it as „CSV UTF-8“; in other programs, "
            "choose the UTF-8 encoding. Or attach the spreadsheet as .xlsx."
        ) % {"name": shown}
    if kind is uploads.MACRO_OFFICE:
        return _(
            "„%(name)s“ contains macros, which a message cannot carry. Save it as an ordinary Word (.docx) or "
            "Excel (.xlsx) file and attach it again."
        ) % {"name": shown}
    return _(
        "„%(name)s“ is not a file type a message can carry. Attach PDF, PNG, JPEG, text (.txt, .csv), "
        "Word (.docx) or Excel (.xlsx) files."
    ) % {"name": shown}


def _invalid(message: str) -> Invalid:
    return Invalid(message, errors={"attachments": message})


# --- The write -----------------------------------------------------------------------------------------------


@retry_on_conflict
def order_message_post(
    *, order: AccessOrder, actor, text: str, files: list[tuple[str, bytes, int]] = ()
) -> OrderMessage:
    """Write a message to the order's thread, with its attachments; audited, and e-mailed to the other side."""
    text = (text or "").strip()
    role = writer_role(actor, order)
    if role is None:
        raise NotPermitted(_("Only the customer's people, its account manager and support can write about this order."))
    problem = typed_text_problem(text, max_length=OrderMessage.TEXT_MAX_LENGTH, multiline=True)
    if not text or problem:
        message = problem or _("Write your message before sending it.")
        raise Invalid(message, errors={"text": message})
    attachments = check_attachments(list(files))
    side = side_of(role)
    with transaction.atomic():
        # The customer's lock, as every write about its orders takes first (ordering/services/__init__.py).
        Customer.objects.select_for_update(no_key=True).only("pk").get(pk=order.customer_id)
        # The order as it is now: the event records its state, which a transition since the page was read may
        # have changed (verify_audit_log holds the newest event to the order's state).
        order = AccessOrder.objects.get(pk=order.pk)
        message = OrderMessage.objects.create(order=order, author=actor, side=side, text=text)
        OrderMessageAttachment.objects.bulk_create(
            OrderMessageAttachment(
                message=message,
                filename=a.filename,
                kind=a.kind.code,
                size=a.size,
                sha256=hashlib.sha256(a.data).hexdigest(),
                data=a.data,
            )
            for a in attachments
        )
        event = audit_record(
            kind=KIND_OF_SIDE[side],
            subject=message,
            actor=actor,
            role=role,
            comment=text,
            params={ATTACHMENTS: ", ".join(a.filename for a in attachments)},
        )
        enqueue_event_notification(event)
    return message


# --- The reads -----------------------------------------------------------------------------------------------


def thread_messages(order: AccessOrder) -> QuerySet[OrderMessage]:
    """The order's messages, oldest first, with their authors and attachments (never their bytes): two queries,
    however many messages. The order page and the API read it."""
    files = OrderMessageAttachment.objects.defer("data")
    messages = order.messages.select_related("author").prefetch_related(Prefetch("attachments", queryset=files))
    return messages.order_by("created_at", "pk")


# The order page shows the newest messages of a long thread; the earlier ones are a link away (`?thread=all`). A
# page's cost then does not grow with its thread: each message drawn cost the page 0.55 million instructions.
THREAD_SHOWN = 20


class Thread(list):
    """The messages the order page shows, oldest first, and `earlier`: how many older ones it does not."""

    def __init__(self, messages: list[OrderMessage], earlier: int) -> None:
        super().__init__(messages)
        self.earlier = earlier


def thread_of(order: AccessOrder, *, everything: bool = False) -> Thread:
    """The order's messages as the order page shows them (ordering/templatetags/thread.py): its newest `THREAD_SHOWN`
    (with `everything`, all), oldest first, each with its author's names and its files as `files` (names and sizes,
    never their bytes), in two queries compiled once per process (core/prepared.py) however many messages; one when
    there is none. The messages not shown are counted by the first query (`COUNT(*) OVER ()`).

    Only what the page shows is read: a message's author is three names of the user, and its files a list, not a
    prefetched query set each (a busy thread holds dozens of messages, most without a file)."""
    newest = _THREAD.all(shape=(everything,), order=order.pk)
    messages = newest[::-1]
    files: dict[int, list[OrderMessageAttachment]] = {}
    if messages:
        # The files of the messages shown: those written since the oldest of them (and at most a few more of the
        # same moment, which no message shown claims).
        for file in _THREAD_FILES.all(order=order.pk, since=messages[0].created_at):
            files.setdefault(file.message_id, []).append(file)
    for message in messages:  # as the related manager would: each message's order is this one
        OrderMessage.order.field.set_cached_value(message, order)
        message.files = files.get(message.pk, [])
    return Thread(messages, messages[0].in_thread - len(messages) if messages else 0)


_THREAD = Prepared(
    lambda p, everything: (
        OrderMessage.objects.filter(order_id=p.order)
        .select_related("author")
        .only(
            "order",
            "author",
            "side",
            "text",
            "created_at",
            "author__username",
            "author__first_name",
            "author__last_name",
        )
        .annotate(in_thread=Window(Count("pk")))
        .order_by("-created_at", "-pk")
    )[: None if everything else THREAD_SHOWN]
)
_THREAD_FILES = Prepared(
    lambda p: OrderMessageAttachment.objects.filter(
        message__order_id=p.order, message__created_at__gte=p.typed("since", _MOMENT)
    ).only("message", "filename", "size")
)
_MOMENT = DateTimeField()


def attachment_for_user(user, pk: int, attachment_pk: int) -> OrderMessageAttachment:
    """An attachment of an order this user may see (order_for_user: 404 otherwise), or 404."""
    order = order_for_user(user, pk)
    found = OrderMessageAttachment.objects.filter(pk=attachment_pk, message__order=order).first()
    if found is None:
        raise NotVisible("No such attachment", kind="order_message_attachment", pk=attachment_pk)
    return found


# --- The form ------------------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern); an empty choice is no files."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        return [super(MultipleFileField, self).clean(d, initial) for d in data]


class OrderMessageForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=OrderMessage.TEXT_MAX_LENGTH,
        validators=[validate_multiline_text],
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": gettext_lazy("Write your message before sending it.")},
    )
    attachments = MultipleFileField(
        label=gettext_lazy("Attachments"),
        required=False,
        # An empty file is the service's to refuse, with its name.
        allow_empty_file=True,
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "message-%s")
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _(
            "Optional. At most %(count)s files of at most %(size)s each: PDF, PNG, JPEG, text (.txt, .csv), "
            "Word (.docx) or Excel (.xlsx)."
        ) % {"count": MAX_ATTACHMENTS, "size": filesizeformat(MAX_ATTACHMENT_BYTES)}

    def files_sent(self) -> list[tuple[str, bytes, int]]:
        """What the service checks: each file's name, its bytes as read (at most the cap + 1) and its real size."""
        return [(f.name, f.read(MAX_ATTACHMENT_BYTES + 1), f.size) for f in self.cleaned_data.get("attachments", [])]


def thread_context(
    order: AccessOrder, user, failed: OrderMessageForm | None = None, *, everything: bool = False
) -> dict:
    """What the order page shows of the thread: the newest messages (or all), and the form for those who may write."""
    may_write = writer_role(user, order) is not None
    return {
        "thread": thread_of(order, everything=everything),
        "message_form": (failed or OrderMessageForm()) if may_write else None,
        "thread_limits": {"count": MAX_ATTACHMENTS, "size": MAX_ATTACHMENT_BYTES},
    }
