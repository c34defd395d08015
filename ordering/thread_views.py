"""The order's thread on the order page: writing a message with its attachments, and downloading an attachment."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from core import uploads
from core.errors import Refusal
from core.form_tokens import Outcome, submit_once
from core.http import show_refusal

from . import thread
from .models import AccessOrder
from .selectors import order_for_user
from .views import _detail_context


# The upload handler must be swapped before the CSRF check reads the body, hence exempt-then-protect
# (as certificates/views.py does, the pattern Django's documentation gives for per-view upload handlers).
@csrf_exempt
@login_required
@require_POST
def order_message_post_view(request: HttpRequest, pk: int) -> HttpResponse:
    request.upload_handlers = [
        uploads.CappedMemoryUploadHandler(request, cap=thread.MAX_ATTACHMENT_BYTES, max_files=thread.MAX_ATTACHMENTS)
    ]
    return _order_message_post(request, pk)


@csrf_protect
def _order_message_post(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for_user(request.user, pk)
    form = thread.OrderMessageForm(request.POST, request.FILES)
    if form.is_valid():
        text, files = form.cleaned_data["text"], form.files_sent()
        back = f"{order.get_absolute_url()}#thread"

        def write() -> Outcome:
            thread.order_message_post(order=order, actor=request.user, text=text, files=files)
            return Outcome(back, _("Your message was sent."))

        try:
            sent = submit_once(request, write)
            return _thread_alone(request, order) if _from_htmx(request) else sent
        except Refusal as refusal:
            show_refusal(request, refusal, form=form if refusal.errors else None, action="order_message", order=pk)
    return _thread_alone(request, order, form) if _from_htmx(request) else _page_again(request, order, form)


def _from_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _thread_alone(
    request: HttpRequest, order: AccessOrder, form: thread.OrderMessageForm | None = None
) -> HttpResponse:
    """The thread for htmx to swap in place of the old one, saying in it what happened (200 also for a refusal:
    htmx swaps no 4xx). The notice is taken from the messages here, so the next page does not say it again."""
    notices = list(messages.get_messages(request))
    context = {"order": order, "thread_notices": notices, **thread.thread_context(order, request.user, form)}
    return render(request, "ordering/_thread.html", context)


def _page_again(request: HttpRequest, order: AccessOrder, form: thread.OrderMessageForm) -> HttpResponse:
    """The order page with the message as typed and what is wrong by its fields (the files must be chosen again)."""
    context = _detail_context(request, order)
    context.update(thread.thread_context(order, request.user, form))
    return render(request, "ordering/order_detail.html", context, status=400)


@login_required
@require_GET
def order_message_attachment(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    """An attachment as a download, of the type its content was found to be; never shown inline."""
    attachment = thread.attachment_for_user(request.user, pk, attachment_pk)
    kind = uploads.KINDS[attachment.kind]
    return uploads.attachment_response(attachment.data, filename=attachment.filename, content_type=kind.content_type)
