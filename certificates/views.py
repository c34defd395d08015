from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import can_see_expiring_certificates
from core.form_tokens import Outcome
from core.http import allowed_if, submit_or_refuse
from ordering.selectors import order_for_user

from .forms import CertificateUploadForm, RolloverConfirmForm
from .selectors import bundle_for_user, expiring_certificates
from .services import certificate_rollover_confirm, certificate_upload
from .uploads import CappedMemoryUploadHandler
from .windows import EXPIRY_NOTICE_DAYS, WATCH_WINDOW_DAYS


def _form_errors(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


# The upload handler must be swapped before the CSRF check reads the body, hence exempt-then-protect
# (the pattern Django's documentation gives for per-view upload handlers).
@csrf_exempt
@login_required
@require_POST
def certificate_upload_view(request: HttpRequest, pk: int) -> HttpResponse:
    request.upload_handlers = [CappedMemoryUploadHandler(request)]
    return _certificate_upload(request, pk)


@csrf_protect
def _certificate_upload(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for_user(request.user, pk)
    form = CertificateUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("ordering:order_detail", pk=order.pk)
    upload_of = {name: form.cleaned_data[name] for name in ("data", "filename", "size")}
    back = f"{order.get_absolute_url()}#certificate"

    def upload() -> Outcome:
        _upload, report = certificate_upload(order=order, actor=request.user, **upload_of)
        if report.valid:
            return Outcome(back, _("The certificate chain was checked and accepted."))
        # Refused, but recorded: the attempt and its findings are shown below, also to a second send.
        return Outcome(back, _("The certificate chain was not accepted. See what is wrong below."), messages.ERROR)

    return submit_or_refuse(request, upload, refused=back, action="certificate_upload", order=pk)


@login_required
@require_POST
def rollover_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for_user(request.user, pk)
    back = f"{order.get_absolute_url()}#certificate"
    form = RolloverConfirmForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(back)

    def confirm() -> Outcome:
        certificate_rollover_confirm(order=order, actor=request.user, bundle_id=form.cleaned_data["bundle"])
        return Outcome(back, _("The new certificate is now in use for this access."))

    return submit_or_refuse(request, confirm, refused=back, action="rollover_confirm", order=pk)


@login_required
@require_GET
def chain_download(request: HttpRequest, pk: int, bundle_pk: int) -> HttpResponse:
    """The accepted chain as stored: the certificates re-encoded as PEM, leaf first (never the raw upload)."""
    bundle = bundle_for_user(request.user, pk, bundle_pk)
    response = HttpResponse(bytes(bundle.data), content_type="application/x-pem-file")
    filename = f"{bundle.order.reference}-certifikatkaede-{bundle.pk}.pem"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


EXPIRING_SHOWN = 50  # certificates on one page of the expiring list


@login_required
@require_GET
@allowed_if(can_see_expiring_certificates)
def expiring_view(request: HttpRequest) -> HttpResponse:
    # Soonest first, a page at a time: across every customer the window holds hundreds of certificates.
    certificates = expiring_certificates(request.user, within_days=WATCH_WINDOW_DAYS).order_by("not_after", "pk")
    page = Paginator(certificates, EXPIRING_SHOWN).get_page(request.GET.get("page"))
    context = {"page": page, "watch_days": WATCH_WINDOW_DAYS, "notice_days": EXPIRY_NOTICE_DAYS}
    return render(request, "certificates/expiring.html", context)
