"""Catalogue and customer data: identifiers are validated, the admin edits the catalogue but never orders."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from ordering.models import AccessOrder, Customer
from ordering.validators import gs1_check_digit, validate_cvr, validate_ean

from ..conftest import make_user


@pytest.mark.parametrize("cvr", ["55133018", "35209115", "29190925", "26911745", "10000009", "99999993"])
def test_valid_cvr_numbers_pass(cvr):
    validate_cvr(cvr)


@pytest.mark.parametrize(
    "cvr",
    [
        "12345678",  # weighted sum 114: 4 past a multiple of 11
        "99999999",  # 270: 6 past
        "55133019",  # a valid number with its last digit one up
        "55133017",  # and one down
        "10000000",  # the smallest eight digits not starting with 0: sum 2
        "10000008",  # one below the smallest valid number starting with 1 (10000009)
        "99999994",  # one above the largest valid number (99999993)
    ],
)
def test_a_cvr_number_failing_the_modulus_11_check_is_refused(cvr):
    """A CVR number's digits, weighted 2, 7, 6, 5, 4, 3, 2, 1, sum to a multiple of 11 (the CVR register's check)."""
    with pytest.raises(ValidationError) as error:
        validate_cvr(cvr)
    assert error.value.code == "invalid_cvr_check_digit"
    assert cvr in error.value.messages[0]


@pytest.mark.parametrize("cvr", ["1234567", "123456789", "0123456", "01234567", "1234567a", "１２３４５６７８", ""])
def test_invalid_cvr_numbers_are_refused_with_the_value_in_the_message(cvr):
    with pytest.raises(ValidationError) as error:
        validate_cvr(cvr)
    assert error.value.code == "invalid_cvr"


def test_gs1_check_digit_matches_a_known_gln():
    # 5790000000005 is a GS1 Denmark-style number whose check digit is 5.
    assert gs1_check_digit("579000000000") == 5
    assert gs1_check_digit("400638133393") == 1  # EAN-13 4006381333931


@pytest.mark.parametrize("ean", ["5798000137004", "4006381333931"])
def test_valid_ean_numbers_pass(ean):
    validate_ean(ean)


@pytest.mark.parametrize(
    ("ean", "code"),
    [
        ("5798000137005", "invalid_ean_check_digit"),
        ("579800013700", "invalid_ean"),
        ("57980001370040", "invalid_ean"),
        ("579800013700X", "invalid_ean"),
    ],
)
def test_invalid_ean_numbers_are_refused(ean, code):
    with pytest.raises(ValidationError) as error:
        validate_ean(ean)
    assert error.value.code == code


def test_a_customer_with_a_wrong_ean_does_not_validate(cast):
    customer = Customer(name="X Kommune", cvr="12345678", ean="5798000137005", account_manager=cast.am_a)
    with pytest.raises(ValidationError) as error:
        customer.full_clean()
    assert "ean" in error.value.message_dict


@pytest.fixture
def admin_client(client, cast):
    admin = make_user("catalogue_admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_the_catalogue_admin_pages_open(admin_client, cast):
    for name in ["interface", "vendor", "externalsystem", "integrationpackage", "customer", "maincontract"]:
        assert admin_client.get(reverse(f"admin:ordering_{name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:ordering_{name}_add")).status_code == 200


def test_the_admin_can_look_at_orders_and_audit_events_but_never_change_them(admin_client, order_in):
    order = order_in("submitted")
    event = AuditEvent.objects.first()
    assert admin_client.get(reverse("admin:ordering_accessorder_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:ordering_accessorder_add")).status_code == 403
    response = admin_client.post(reverse("admin:ordering_accessorder_change", args=[order.pk]), {"state": "active"})
    assert response.status_code == 403
    assert AccessOrder.objects.get(pk=order.pk).state == "submitted"
    assert (
        admin_client.post(reverse("admin:ordering_accessorder_delete", args=[order.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert (
        admin_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
