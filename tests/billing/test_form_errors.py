"""A money form that fails comes back as typed, its error by its field, and the page lands on it."""

from django.urls import reverse
from django.utils.html import escape

from billing.models import QuoteAdjustment


def test_a_failed_adjustment_keeps_what_was_typed_and_shows_the_error_by_the_field(cast, order_in, client):
    order = order_in("submitted")
    client.force_login(cast.am_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert f'action="{reverse("billing:quote_adjust", args=[order.pk])}#adjust"' in page
    token = page.split('name="form_token" value="')[1].split('"')[0]

    response = client.post(
        reverse("billing:quote_adjust", args=[order.pk]),
        {"kind": "one_time", "amount": "mange penge", "reason": "Rabat for pilotkunde", "form_token": token},
    )

    assert response.status_code == 400  # shown again, not redirected: nothing typed is lost
    body = response.content.decode()
    assert 'value="mange penge"' in body and 'value="Rabat for pilotkunde"' in body
    amount = body[body.index('for="adj-amount"') : body.index('id="adj-amount"')]
    assert "form-error-message" in amount
    assert not QuoteAdjustment.objects.filter(order=order).exists()
    assert escape("mange penge") in body
