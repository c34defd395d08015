"""The message thread on every order: the customer and KMD write to each other, with attachments.

The cast: Aarhus (customer A) with an orderer, a signatory and a user administrator; its account manager am_a;
support; Odense (customer B) with its own people and account manager am_b.
"""

import io
import re
import zipfile

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core import uploads
from core.errors import Invalid, NotPermitted
from ordering import thread
from ordering.audit import AuditKind
from ordering.models import CustomerMembership, OrderMessage, OrderMessageAttachment

from ..conftest import make_user

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60


def office(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name in names:
            z.writestr(name, "<xml/>")
    return buffer.getvalue()


DOCX = office("[Content_Types].xml", "word/document.xml")
XLSX = office("[Content_Types].xml", "xl/workbook.xml")
DOCM = office("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin")
ZIP = office("kaede.pem")


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post(client: Client, order, text: str = "Se vedhæftede plan.", files=(), **headers):
    return client.post(
        reverse("ordering:order_message_post", args=[order.pk]),
        {"text": text, "attachments": list(files)},
        headers=headers,
    )


@pytest.fixture
def user_admin(cast):
    admin = make_user("useradmin_a")
    CustomerMembership.objects.create(user=admin, customer=cast.customer_a, is_user_admin=True)
    return admin


def logged_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


def snapshot() -> tuple:
    return (
        list(OrderMessage.objects.values_list("pk", "text")),
        list(OrderMessageAttachment.objects.values_list("pk", "sha256")),
        AuditEvent.objects.filter(kind__in=thread.THREAD_KINDS).count(),
    )


# --- Who writes, and who hears about it ----------------------------------------------------------------------


def test_the_orderer_writes_with_an_attachment_and_the_account_manager_is_emailed(
    cast, order_in, client, django_capture_on_commit_callbacks
):
    order = order_in("submitted")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(logged_in(client, cast.orderer_a), order, files=[upload("Plan for vagter.pdf", PDF)])

    assert response.status_code == 302 and response["Location"] == f"{order.get_absolute_url()}#thread"
    message = OrderMessage.objects.get()
    assert (message.order, message.author, message.side, message.text) == (
        order,
        cast.orderer_a,
        "customer",
        "Se vedhæftede plan.",
    )
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.kind, attachment.size) == ("Plan for vagter.pdf", "pdf", len(PDF))
    event = AuditEvent.objects.get(kind=AuditKind.MESSAGE_FROM_CUSTOMER)
    assert (event.order_id, event.actor_id, event.actor_role, event.comment) == (
        order.pk,
        cast.orderer_a.pk,
        "orderer",
        "Se vedhæftede plan.",
    )
    assert event.params == {"attachments": "Plan for vagter.pdf"}
    assert [m.to for m in mail.outbox] == [["am_a@example.test"]]
    sent = mail.outbox[0]
    assert sent.subject == f"Ny besked fra Aarhus Kommune om bestilling {order.reference}"
    assert order.get_absolute_url() in sent.body and "vedhæftede filer" in sent.body
    # A link to the order, never the attachment: no file, no text of the message, no link to the download.
    assert sent.attachments == [] and "Se vedhæftede plan" not in sent.body and "/attachments/" not in sent.body


def test_the_account_manager_answers_and_the_customers_orderers_and_signatories_are_emailed(
    cast, order_in, django_capture_on_commit_callbacks
):
    order = order_in("submitted")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message = thread.order_message_post(order=order, actor=cast.am_a, text="Her er vores svar.")
    assert message.side == "supplier"
    assert AuditEvent.objects.get(kind=AuditKind.MESSAGE_FROM_KMD).actor_role == "account_manager"
    assert sorted(m.to[0] for m in mail.outbox) == ["orderer_a@example.test", "signatory_a@example.test"]
    assert mail.outbox[0].subject == f"Ny besked fra KMD om bestilling {order.reference}"


@pytest.mark.parametrize(
    ("who", "side", "role"),
    [
        ("orderer_a", "customer", "orderer"),
        ("signatory_a", "customer", "signatory"),
        ("useradmin_a", "customer", "user_admin"),
        ("am_a", "supplier", "account_manager"),
        ("support", "supplier", "support"),
    ],
)
def test_the_customers_people_its_account_manager_and_support_may_write(cast, order_in, user_admin, who, side, role):
    actor = user_admin if who == "useradmin_a" else getattr(cast, who)
    message = thread.order_message_post(order=order_in("submitted"), actor=actor, text="Hej")
    assert message.side == side
    assert AuditEvent.objects.get(kind__in=thread.THREAD_KINDS).actor_role == role


@pytest.mark.parametrize("who", ["orderer_b", "signatory_b", "am_b", "outsider"])
def test_nobody_else_may_write_and_nothing_is_stored(cast, order_in, who):
    order = order_in("submitted")
    before = snapshot()
    with pytest.raises(NotPermitted):
        thread.order_message_post(order=order, actor=getattr(cast, who), text="Hej", files=[("a.pdf", PDF, len(PDF))])
    assert snapshot() == before


# --- Tenant isolation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["orderer_b", "am_b", "outsider"])
def test_another_customers_people_can_neither_post_to_nor_read_the_thread(cast, order_in, client, who):
    order = order_in("submitted")
    message = thread.order_message_post(
        order=order, actor=cast.orderer_a, text="Fortroligt", files=[("plan.pdf", PDF, len(PDF))]
    )
    attachment = message.attachments.get()
    other = logged_in(client, getattr(cast, who))
    before = snapshot()

    assert post(other, order, files=[upload("x.pdf", PDF)]).status_code == 404
    assert snapshot() == before
    assert other.get(reverse("ordering:order_message_attachment", args=[order.pk, attachment.pk])).status_code == 404


def test_an_attachment_is_not_reached_through_another_order(cast, order_in, client):
    """Customer B's orderer names their own order with customer A's attachment: 404, as for any other file."""
    order_a = order_in("submitted")
    order_b = order_in("submitted", customer=cast.customer_b)
    message = thread.order_message_post(order=order_a, actor=cast.orderer_a, text="Hej", files=[("a.pdf", PDF, 45)])
    url = reverse("ordering:order_message_attachment", args=[order_b.pk, message.attachments.get().pk])
    assert logged_in(client, cast.orderer_b).get(url).status_code == 404


def test_the_other_customers_order_page_shows_nothing_of_the_thread(cast, order_in, client):
    order_a = order_in("submitted")
    thread.order_message_post(order=order_a, actor=cast.orderer_a, text="Aarhus hemmelighed")
    order_b = order_in("submitted", customer=cast.customer_b)
    page = logged_in(client, cast.orderer_b).get(order_b.get_absolute_url()).content.decode()
    assert "Aarhus hemmelighed" not in page and "Ingen beskeder endnu." in page


# --- The attachments: types, sizes, counts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "kind", "stored_as", "content_type"),
    [
        ("plan.pdf", PDF, "pdf", "plan.pdf", "application/pdf"),
        ("skærm.png", PNG, "png", "skærm.png", "image/png"),
        ("foto.jpeg", JPEG, "jpeg", "foto.jpg", "image/jpeg"),
        ("noter.txt", "Æbler og øl\n".encode(), "text", "noter.txt", "text/plain; charset=utf-8"),
        ("liste.csv", b"cpr;navn\n1;A\n", "csv", "liste.csv", "text/csv; charset=utf-8"),
        ("aftale.docx", DOCX, "docx", "aftale.docx", uploads.DOCX.content_type),
        ("ark.xlsx", XLSX, "xlsx", "ark.xlsx", uploads.XLSX.content_type),
        # The content decides, not the name: a PDF sent as .txt is kept and handed back as .pdf.
        ("forklædt.txt", PDF, "pdf", "forklædt.pdf", "application/pdf"),
        # A name with a path and odd characters keeps only its last part and plain characters.
        ('..\\..\\a"b<c>.pdf', PDF, "pdf", "a_b_c.pdf", "application/pdf"),
    ],
)
def test_each_allowed_type_is_kept_and_downloaded_as_an_attachment_of_its_type(
    cast, order_in, client, name, data, kind, stored_as, content_type
):
    order = order_in("submitted")
    assert post(logged_in(client, cast.orderer_a), order, files=[upload(name, data)]).status_code == 302
    attachment = OrderMessageAttachment.objects.get()
    assert (attachment.kind, attachment.filename) == (kind, stored_as)

    response = logged_in(client, cast.am_a).get(
        reverse("ordering:order_message_attachment", args=[order.pk, attachment.pk])
    )
    assert response.status_code == 200 and response.content == data
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment; filename")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_download_names_the_file_safely_in_both_header_forms(cast, order_in, client):
    order = order_in("submitted")
    post(logged_in(client, cast.orderer_a), order, files=[upload("Møde-referat.pdf", PDF)])
    attachment = OrderMessageAttachment.objects.get()
    response = client.get(reverse("ordering:order_message_attachment", args=[order.pk, attachment.pk]))
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''M%C3%B8de-referat.pdf"


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("program.exe", EXE, "„program.exe“ er ikke en filtype, der kan vedhæftes en besked."),
        ("program.pdf", EXE, "„program.pdf“ er ikke en filtype"),
        ("kaede.zip", ZIP, "„kaede.zip“ er en zip-fil"),
        ("makro.docx", DOCM, "„makro.docx“ indeholder makroer"),
        ("noget.bin", b"\x00\x01\x02binary", "„noget.bin“ er ikke en filtype"),
        (
            "nøgle.txt",
            b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
            "„nøgle.txt“ indeholder en privat nøgle.",
        ),
        ("tom.pdf", b"", "„tom.pdf“ er tom. Vælg filen igen."),
        ("løn.csv", "Navn;Beløb\nSøren;1.234,50\n".encode("cp1252"), "„løn.csv“ er tekst, der ikke er gemt som UTF-8."),
    ],
)
def test_a_refused_file_is_named_with_what_is_wrong_and_nothing_is_stored(cast, order_in, client, name, data, says):
    order = order_in("submitted")
    before = snapshot()
    response = post(
        logged_in(client, cast.orderer_a), order, text="Min tekst bliver stående", files=[upload(name, data)]
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert says in page and "Min tekst bliver stående" in page
    assert snapshot() == before


def test_a_message_carries_at_most_three_files_and_a_fourth_is_refused(cast, order_in, client):
    order = order_in("submitted")
    orderer = logged_in(client, cast.orderer_a)
    files = [upload(f"bilag-{i}.pdf", PDF) for i in range(thread.MAX_ATTACHMENTS)]
    assert post(orderer, order, files=files).status_code == 302
    assert OrderMessageAttachment.objects.count() == thread.MAX_ATTACHMENTS

    before = snapshot()
    files = [upload(f"bilag-{i}.pdf", PDF) for i in range(thread.MAX_ATTACHMENTS + 1)]
    response = post(orderer, order, files=files)
    assert response.status_code == 400
    assert "Du har vedhæftet 4 filer; en besked kan højst have 3." in response.content.decode()
    assert snapshot() == before


def test_a_file_of_exactly_5_mb_is_kept_and_one_byte_more_is_refused(cast, order_in, client):
    order = order_in("submitted")
    orderer = logged_in(client, cast.orderer_a)
    exactly = PDF + b"0" * (thread.MAX_ATTACHMENT_BYTES - len(PDF))
    assert post(orderer, order, files=[upload("stor.pdf", exactly)]).status_code == 302
    assert OrderMessageAttachment.objects.get().size == thread.MAX_ATTACHMENT_BYTES

    before = snapshot()
    response = post(orderer, order, files=[upload("for-stor.pdf", exactly + b"0")])
    assert response.status_code == 400
    assert "„for-stor.pdf“ er større end 5,0\xa0MB" in response.content.decode()
    assert snapshot() == before


def test_the_upload_handler_keeps_at_most_the_cap_plus_one_byte_of_each_file(cast, order_in, client, monkeypatch):
    """Memory is bounded while reading: the service is shown the cap + 1 bytes and the size sent."""
    seen = []
    original = thread.check_attachments
    monkeypatch.setattr(thread, "check_attachments", lambda files: seen.extend(files) or original(files))
    order = order_in("submitted")
    post(logged_in(client, cast.orderer_a), order, files=[upload("stor.pdf", PDF + b"0" * thread.MAX_ATTACHMENT_BYTES)])
    ((_name, data, size),) = seen
    assert (len(data), size) == (thread.MAX_ATTACHMENT_BYTES + 1, len(PDF) + thread.MAX_ATTACHMENT_BYTES)


# --- The text ------------------------------------------------------------------------------------------------


def test_the_text_may_be_2000_characters_and_2001_is_refused(cast, order_in):
    order = order_in("submitted")
    thread.order_message_post(order=order, actor=cast.orderer_a, text="x" * 2000)
    before = snapshot()
    with pytest.raises(Invalid) as refused:
        thread.order_message_post(order=order, actor=cast.orderer_a, text="x" * 2001)
    assert "text" in refused.value.errors
    assert snapshot() == before


@pytest.mark.parametrize("text", ["", "   ", "skjult\x07tegn"])
def test_a_message_needs_readable_text_even_with_an_attachment(cast, order_in, text):
    before = snapshot()
    with pytest.raises(Invalid) as refused:
        thread.order_message_post(
            order=order_in("submitted"), actor=cast.orderer_a, text=text, files=[("a.pdf", PDF, len(PDF))]
        )
    assert list(refused.value.errors) == ["text"]
    assert snapshot() == before


# --- The order page ------------------------------------------------------------------------------------------


def test_the_order_page_shows_who_wrote_on_which_side_when_and_the_files_with_their_size(
    cast, order_in, client, settings
):
    order = order_in("submitted")
    thread.order_message_post(
        order=order,
        actor=cast.orderer_a,
        text="Første linje\nAnden linje",
        files=[("plan.pdf", PDF + b"0" * 12_500, 0)],
    )
    thread.order_message_post(order=order, actor=cast.am_a, text="Tak, vi kigger på det.")
    written = timezone.localtime(OrderMessage.objects.first().created_at)

    page = logged_in(client, cast.orderer_a).get(order.get_absolute_url()).content.decode()
    assert "<strong>Orderer</strong> (Kunde)" in page and "<strong>Am</strong> (KMD)" in page
    assert written.strftime("%d.%m.%Y %H:%M") in page
    assert "Første linje<br>Anden linje" in page
    assert "plan.pdf</a> (12,3 kB)" in page
    # The messages are in the thread, not again in the history below it.
    assert page.count("Tak, vi kigger på det.") == 1


# The thread as the template engine drew it before `{% thread_items %}` (ordering/templatetags/thread.py).
THREAD_AS_TEMPLATE = """{% load i18n %}{% for message in thread %}
  <li class="order-thread-message order-thread-{{ message.side }}" id="message-{{ message.pk }}">
    <p class="mb-0"><strong>{{ message.author.get_full_name|default:message.author.username }}</strong> ({{ message.get_side_display }}) · <time datetime="{{ message.created_at|date:'c' }}">{{ message.created_at|date:"SHORT_DATETIME_FORMAT" }}</time></p>
    <p class="mt-2">{{ message.text|linebreaksbr }}</p>
    {% with files=message.attachments.all %}{% if files %}
    <ul class="mt-0" aria-label="{% translate 'Attachments' %}">
      {% for file in files %}<li><a href="{% url 'ordering:order_message_attachment' order.pk file.pk %}" download>{{ file.filename }}</a> ({{ file.size_kb|floatformat:"1g" }} kB)</li>{% endfor %}
    </ul>
    {% endif %}{% endwith %}
  </li>
{% endfor %}"""


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_thread_is_drawn_as_the_template_drew_it_every_value_escaped(cast, order_in, language):
    from django.template import Context, Template
    from django.utils import translation

    from ordering.templatetags.thread import thread_items

    order = order_in("submitted")
    evil = '<script>alert("x")</script> & "quoted"'
    nameless = make_user("uden.navn")
    nameless.first_name = ""
    nameless.save(update_fields=["first_name"])
    CustomerMembership.objects.create(user=nameless, customer=cast.customer_a, is_orderer=True)
    thread.order_message_post(order=order, actor=cast.orderer_a, text=f"{evil}\r\nAnden linje\n\nTredje")
    files = [("<b>plan</b>.pdf", PDF + b"0" * 1_300_000, 0), ("b.png", PNG, 56)]  # the name is made safe on upload
    thread.order_message_post(order=order, actor=cast.am_a, text="Tak.", files=files)
    thread.order_message_post(order=order, actor=nameless, text="Uden navn")
    messages = thread.thread_of(order)
    with translation.override(language):
        expected = Template(THREAD_AS_TEMPLATE).render(Context({"thread": messages, "order": order}))
        drawn = thread_items(messages, order)
    assert " ".join(drawn.split()).replace("> <", "><") == " ".join(expected.split()).replace("> <", "><")
    assert "<script>" not in drawn and "&lt;script&gt;alert(&quot;x&quot;)" in drawn and "b.pdf</a>" in drawn
    assert "&amp; &quot;quoted&quot;<br>Anden linje<br><br>Tredje" in drawn  # each line break of each kind
    assert "<strong>uden.navn</strong>" in drawn  # no name: the username
    assert ("(1.269,6 kB)" if language == "da" else "(1,269.6 kB)") in drawn


def test_the_order_pages_query_count_does_not_grow_with_the_messages(cast, order_in, client, django_assert_num_queries):
    order = order_in("submitted")
    orderer = logged_in(client, cast.orderer_a)
    thread.order_message_post(order=order, actor=cast.orderer_a, text="1", files=[("a.pdf", PDF, 45)])
    orderer.get(order.get_absolute_url())
    with CaptureQueriesContext(connection) as one:
        orderer.get(order.get_absolute_url())
    for i in range(5):
        files = [("a.pdf", PDF, 45), ("b.png", PNG, 56)]
        thread.order_message_post(order=order, actor=cast.am_a if i % 2 else cast.orderer_a, text=str(i), files=files)
    with django_assert_num_queries(len(one.captured_queries)):
        orderer.get(order.get_absolute_url())


def _messages(order, authors, n: int, *, first_file: bool = False) -> list[OrderMessage]:
    """`n` messages a second apart, oldest first, written straight to the table (what the page shows of them is
    what matters here, not the write's audit and e-mail): "besked 1" … "besked n"; with `first_file`, the oldest
    carries a file."""
    start = timezone.now() - timezone.timedelta(hours=1)
    written = OrderMessage.objects.bulk_create(
        OrderMessage(
            order=order,
            author=authors[i % len(authors)],
            side=OrderMessage.Side.CUSTOMER if i % 2 == 0 else OrderMessage.Side.KMD,
            text=f"besked {i + 1}",
            created_at=start + timezone.timedelta(seconds=i),
        )
        for i in range(n)
    )
    if first_file:
        OrderMessageAttachment.objects.create(
            message=written[0], filename="gammel.pdf", kind=uploads.PDF.code, size=len(PDF), sha256="0" * 64, data=PDF
        )
    return written


def _shown(page: str) -> list[str]:
    return re.findall(r"besked (\d+)</p>", page)


def test_a_long_thread_shows_its_newest_messages_and_a_link_to_the_earlier_ones(cast, order_in, client):
    order = order_in("submitted")
    orderer = logged_in(client, cast.orderer_a)
    _messages(order, [cast.orderer_a, cast.am_a], thread.THREAD_SHOWN)

    page = orderer.get(order.get_absolute_url()).content.decode()
    assert _shown(page) == [str(i) for i in range(1, thread.THREAD_SHOWN + 1)]  # exactly as many as shown: all
    assert "?thread=all#thread" not in page

    OrderMessage.objects.all().delete()
    _messages(order, [cast.orderer_a, cast.am_a], thread.THREAD_SHOWN + 1, first_file=True)
    page = orderer.get(order.get_absolute_url()).content.decode()
    # One more: the newest, oldest first, and the one before them a link away; its file is not read.
    assert _shown(page) == [str(i) for i in range(2, thread.THREAD_SHOWN + 2)]
    assert f'<a href="{order.get_absolute_url()}?thread=all#thread">Vis 1 tidligere besked</a>' in page
    assert "gammel.pdf" not in page

    page = orderer.get(f"{order.get_absolute_url()}?thread=all").content.decode()
    assert _shown(page) == [str(i) for i in range(1, thread.THREAD_SHOWN + 2)]
    assert "?thread=all#thread" not in page and "gammel.pdf</a>" in page


def test_the_earlier_messages_are_counted_in_english_too(cast, order_in, client):
    order = order_in("submitted")
    _messages(order, [cast.orderer_a], thread.THREAD_SHOWN + 2)
    client = logged_in(client, cast.orderer_a)
    client.cookies["django_language"] = "en"
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Show 2 earlier messages</a>" in page


def test_the_thread_shown_costs_the_same_queries_however_long(cast, order_in, client, django_assert_num_queries):
    order = order_in("submitted")
    orderer = logged_in(client, cast.orderer_a)
    _messages(order, [cast.orderer_a, cast.am_a], 2, first_file=True)
    orderer.get(order.get_absolute_url())
    with CaptureQueriesContext(connection) as short:
        orderer.get(order.get_absolute_url())
    _messages(order, [cast.orderer_a, cast.am_a], thread.THREAD_SHOWN * 2, first_file=True)
    with django_assert_num_queries(len(short.captured_queries)):
        page = orderer.get(order.get_absolute_url()).content.decode()
    assert len(_shown(page)) == thread.THREAD_SHOWN
    with django_assert_num_queries(len(short.captured_queries)):
        page = orderer.get(f"{order.get_absolute_url()}?thread=all").content.decode()
    assert len(_shown(page)) == thread.THREAD_SHOWN * 2 + 2


def test_the_form_is_on_the_page_for_those_who_may_write_and_works_without_javascript(cast, order_in, client):
    order = order_in("submitted")
    page = logged_in(client, cast.signatory_a).get(order.get_absolute_url()).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="attachments" multiple' in page
    assert f'action="{reverse("ordering:order_message_post", args=[order.pk])}"' in page


def test_a_message_without_the_csrf_token_is_refused(cast, order_in):
    order = order_in("submitted")
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.orderer_a)
    assert post(client, order).status_code == 403
    assert not OrderMessage.objects.exists()


def test_a_message_sent_twice_by_a_double_click_is_written_once(cast, order_in, client):
    from core.form_tokens import FIELD, form_token_issue

    order = order_in("submitted")
    orderer = logged_in(client, cast.orderer_a)
    data = {"text": "Én gang", FIELD: form_token_issue(cast.orderer_a.pk)}
    url = reverse("ordering:order_message_post", args=[order.pk])
    assert orderer.post(url, data).status_code == 302
    assert orderer.post(url, data).status_code == 302
    assert OrderMessage.objects.count() == 1


def test_the_thread_is_read_without_the_files_bytes(cast, order_in):
    """A page of messages never loads their files: only the download does."""
    order = order_in("submitted")
    thread.order_message_post(order=order, actor=cast.orderer_a, text="Hej", files=[("a.pdf", PDF, len(PDF))])
    (message,) = thread.thread_of(order)
    (file,) = message.files
    assert "data" in file.get_deferred_fields() and (file.filename, file.size) == ("a.pdf", len(PDF))
    # The API's read (thread_messages) too.
    (message,) = thread.thread_messages(order)
    assert message.attachments.all()[0].get_deferred_fields() == {"data"}


def test_with_htmx_the_thread_alone_comes_back_with_the_message_and_says_it_was_sent_once(cast, order_in, client):
    order = order_in("submitted")
    orderer = logged_in(client, cast.orderer_a)
    response = post(orderer, order, text="Via htmx", files=[upload("plan.pdf", PDF)], **{"HX-Request": "true"})

    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<section aria-labelledby="thread-heading" id="thread">')
    assert "<html" not in fragment and "Via htmx" in fragment and "plan.pdf" in fragment
    assert 'role="status" tabindex="-1" autofocus' in fragment and "Din besked er sendt." in fragment
    # A fresh form, with a fresh token, for the next message.
    assert 'id="message-form"' in fragment and 'name="form_token"' in fragment
    # Said once: the next page does not say it again.
    assert "Din besked er sendt." not in orderer.get(order.get_absolute_url()).content.decode()


def test_with_htmx_a_refused_message_comes_back_in_the_thread_with_why_and_nothing_is_stored(cast, order_in, client):
    order = order_in("submitted")
    before = snapshot()
    response = post(
        logged_in(client, cast.orderer_a),
        order,
        text="Min tekst",
        files=[upload("program.exe", EXE)],
        **{"HX-Request": "true"},
    )
    # 200, as htmx swaps no 4xx: the form with the text as typed and the file's sentence by its field.
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "„program.exe“ er ikke en filtype" in fragment and "Min tekst" in fragment and "<html" not in fragment
    assert snapshot() == before


def test_a_message_on_an_order_read_before_a_transition_records_the_state_it_is_in_now(cast, order_in):
    from ordering import services
    from ordering.audit import verify_orders

    page_read = order_in("submitted")
    services.order_return_for_changes(order=page_read, actor=cast.am_a, comment="Ret miljøet")
    assert page_read.state == "submitted"  # the object the page read before the account manager acted

    thread.order_message_post(order=page_read, actor=cast.orderer_a, text="Vi retter det")
    event = AuditEvent.objects.get(kind=AuditKind.MESSAGE_FROM_CUSTOMER)
    assert (event.from_state, event.to_state) == ("draft", "draft")
    assert verify_orders() == []
