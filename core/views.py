"""Support's view of the outbox: messages given up, messages overdue, and "send again"."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .errors import Refusal
from .http import show_refusal
from .models import OutboxMessage
from .outbox import handler_named, outbox_backlog, outbox_send_again

PAGE_SIZE = 25


def _require_support(request: HttpRequest) -> None:
    if not request.user.is_support:
        raise PermissionDenied(_("Only support sees the outbox."))


def _labelled(page_messages) -> list[OutboxMessage]:
    for message in page_messages:
        handler = handler_named(message.handler)
        message.label = handler.label if handler else message.handler
    return page_messages


@login_required
@require_GET
def outbox_dead_letters(request: HttpRequest) -> HttpResponse:
    _require_support(request)
    dead = OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD).select_related("sent_again_by")
    page = Paginator(dead.order_by("-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    _labelled(page.object_list)
    return render(
        request,
        "core/outbox_dead_letters.html",
        {
            "page": page,
            "overdue": outbox_backlog(),
            "overdue_minutes": settings.OUTBOX_OVERDUE_SECONDS // 60,
        },
    )


@login_required
@require_POST
def outbox_send_again_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_support(request)
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        outbox_send_again(message=message, actor=request.user)
    except Refusal as refusal:
        show_refusal(request, refusal, action="outbox_send_again", message=message.pk)
    else:
        messages.success(request, _("Message %(number)s is being sent again.") % {"number": message.pk})
    return redirect("core:outbox_dead_letters")
