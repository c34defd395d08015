"""The profile page: a user's API tokens, made there (the secret shown once), listed, and revoked there;
gateway tokens by command; every token in the admin, where it can only be revoked."""

import hashlib
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import ApiToken
from accounts.roles import CATALOGUE_ADMIN_GROUP
from accounts.tokens import token_for_key

from .conftest import bearer, make_token

PROFILE = "/profile/"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def new_token(client, **overrides):
    data = {
        "name": "Lønsystemets integration",
        "scopes": ["read", "order"],
        "last_day": (timezone.localdate() + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return client.post(PROFILE, data)


def test_every_logged_in_user_reaches_the_profile_from_their_name(cast, client):
    for person in ("orderer_a", "am_a", "support", "outsider"):
        client.force_login(getattr(cast, person))
        page = client.get(reverse("ordering:catalogue")).content.decode()
        assert f'href="{PROFILE}"' in page
        assert client.get(PROFILE).status_code == 200


def test_the_profile_needs_login(client):
    response = client.get(PROFILE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def secret_on(page: str) -> str:
    return page.split('id="api-token-secret"')[1].split(">", 1)[1].split("</textarea>")[0]


def test_a_new_tokens_secret_is_shown_once_and_only_its_hash_is_kept(cast, client):
    client.force_login(cast.orderer_a)
    response = new_token(client)
    # The answer to the form itself shows the secret: it never waits anywhere for a second request.
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    secret = secret_on(page)
    assert secret.startswith("oa_") and len(secret) == 43
    assert page.count(secret) == 1
    token = ApiToken.objects.get(user=cast.orderer_a)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (token.name, token.scopes, token.kind) == ("Lønsystemets integration", ["order", "read"], "personal")
    # It works through the 30th day from today: it expires at the Copenhagen midnight after it.
    assert token.expires_at == datetime.combine(timezone.localdate() + timedelta(days=31), time.min, tzinfo=COPENHAGEN)
    # Nothing stored holds it: no session, not the token's row.
    assert Session.objects.exists()
    assert all(secret not in str(s.get_decoded()) for s in Session.objects.all())
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    # Nor the profile page afterwards.
    assert secret not in client.get(PROFILE).content.decode()
    # And it works, as its user.
    assert bearer(secret).get("/api/v1/orders/").status_code == 200


def test_sending_the_same_form_again_makes_no_second_token_and_shows_no_secret(cast, client, settings):
    from core.form_tokens import form_token_issue

    client.force_login(cast.orderer_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    form_token = form_token_issue(cast.orderer_a.pk)
    first = new_token(client, form_token=form_token)
    secret = secret_on(first.content.decode())
    again = new_token(client, form_token=form_token)
    assert ApiToken.objects.filter(user=cast.orderer_a).count() == 1
    assert again.status_code == 302 and again["Location"] == PROFILE
    profile = client.get(PROFILE).content.decode()
    assert secret not in again.content.decode() and secret not in profile
    assert "This form was sent before, and the token was made then. Its secret was shown once" in profile
    assert all(secret not in str(s.get_decoded()) for s in Session.objects.all())


def test_two_tabs_each_show_the_token_they_made(cast, client):
    client.force_login(cast.orderer_a)
    first = secret_on(new_token(client, name="Første").content.decode())
    second = secret_on(new_token(client, name="Anden").content.decode())
    assert first != second
    assert token_for_key(first).name == "Første" and token_for_key(second).name == "Anden"


def test_the_created_page_is_no_longer_an_address_of_its_own(cast, client):
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        reverse("accounts:token_created")


def test_the_token_works_through_its_last_day_and_expires_at_the_midnight_after_it(cast, client):
    client.force_login(cast.orderer_a)
    last_day = timezone.localdate() + timedelta(days=10)
    new_token(client, last_day=last_day.isoformat())
    token = ApiToken.objects.get(user=cast.orderer_a)
    expires = timezone.localtime(token.expires_at)
    assert (expires.date(), expires.hour, expires.minute) == (last_day + timedelta(days=1), 0, 0)


def test_the_profile_lists_the_users_tokens_and_no_one_elses(cast, client):
    make_token(cast.orderer_a, ("read",))
    make_token(cast.orderer_b, ("read",))
    client.force_login(cast.orderer_a)
    page = client.get(PROFILE).content.decode()
    mine = ApiToken.objects.get(user=cast.orderer_a)
    theirs = ApiToken.objects.get(user=cast.orderer_b)
    assert mine.prefix in page and theirs.prefix not in page


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"scopes": []}, "scopes"),
        ({"last_day": (timezone.localdate() + timedelta(days=400)).isoformat()}, "last_day"),
        ({"last_day": (timezone.localdate() - timedelta(days=1)).isoformat()}, "last_day"),
        ({"scopes": ["register"]}, "scopes"),
    ],
)
def test_a_wrong_token_form_keeps_what_was_typed_and_makes_nothing(cast, client, overrides, field):
    client.force_login(cast.orderer_a)
    response = new_token(client, **overrides)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    if field != "name":
        assert "Lønsystemets integration" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_asks_first_then_refuses_the_token_at_once(cast, client):
    secret = make_token(cast.orderer_a)
    token = ApiToken.objects.get(user=cast.orderer_a)
    client.force_login(cast.orderer_a)
    url = f"/profile/tokens/{token.pk}/revoke/"
    confirm = client.get(url)
    assert confirm.status_code == 200 and token.prefix in confirm.content.decode()
    assert 'name="form_token"' in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # asking revokes nothing
    done = client.post(url)
    assert done.status_code == 302 and done["Location"] == PROFILE
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(secret).get("/api/v1/orders/").status_code == 401


def test_no_one_revokes_another_users_token_from_the_profile(cast, client):
    make_token(cast.orderer_b)
    token = ApiToken.objects.get(user=cast.orderer_b)
    client.force_login(cast.orderer_a)
    assert client.get(f"/profile/tokens/{token.pk}/revoke/").status_code == 404
    assert client.post(f"/profile/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_create_gateway_token_prints_the_secret_once_and_it_reads_only_the_register(cast):
    out, err = io.StringIO(), io.StringIO()
    last_day = timezone.localdate() + timedelta(days=30)
    call_command("create_gateway_token", "gateway-1", "--last-day", last_day.isoformat(), stdout=out, stderr=err)
    secret = out.getvalue().strip()
    token = token_for_key(secret)
    assert (token.kind, token.scopes, token.user) == ("gateway", ["register"], None)
    assert token.prefix in err.getvalue() and secret not in err.getvalue()
    assert token.last_day == last_day
    assert token.expires_at == datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=COPENHAGEN)
    assert bearer(secret).get("/api/v1/orders/").status_code == 403


def test_create_gateway_token_works_a_year_by_default_and_refuses_a_day_past_it(cast):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_gateway_token", "gateway-1", stdout=out, stderr=err)
    assert token_for_key(out.getvalue().strip()).last_day == timezone.localdate() + timedelta(days=365)
    too_late = (timezone.localdate() + timedelta(days=366)).isoformat()
    with translation.override("en"), pytest.raises(CommandError, match="at most a year"):
        call_command("create_gateway_token", "gateway-2", "--last-day", too_late, stdout=out, stderr=err)
    assert ApiToken.objects.count() == 1


def test_the_admin_lists_every_token_can_revoke_and_never_shows_the_hash(cast, client):
    from django.contrib.auth.models import Group

    make_token(cast.orderer_a)
    token = ApiToken.objects.get()
    admin = cast.am_a  # staff; a catalogue admin once in the group
    admin.groups.add(Group.objects.create(name=CATALOGUE_ADMIN_GROUP))
    from django.contrib.auth.models import Permission

    admin.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    client.force_login(admin)
    changelist = client.get("/admin/accounts/apitoken/")
    assert changelist.status_code == 200
    assert token.prefix in changelist.content.decode()
    change = client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert token.key_hash not in change and token.key_hash not in changelist.content.decode()
    assert 'name="name"' not in change  # read-only: nothing to edit
    client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_token_list_says_scopes_in_words_and_the_last_day_as_chosen(cast, client):
    from django.utils.translation import override

    from accounts.models import ApiToken

    client.force_login(cast.orderer_a)
    last_day = timezone.localdate() + timedelta(days=30)
    client.post(PROFILE, {"name": "ITSM", "scopes": ["read", "order"], "last_day": last_day.strftime("%d.%m.%Y")})
    token = ApiToken.objects.get(user=cast.orderer_a)
    assert token.last_day == last_day
    assert timezone.localdate(token.expires_at) == last_day + timedelta(days=1)  # the midnight after it

    page = client.get(PROFILE).content.decode()
    with override("da"):
        labels = [str(label) for label in (ApiToken.Scope.ORDER.label, ApiToken.Scope.READ.label)]
    assert ", ".join(labels) in page and "order, read" not in page
    assert last_day.strftime("%d.%m.%Y") in page


def catalogue_admin(user):
    from django.contrib.auth.models import Group, Permission

    user.groups.add(Group.objects.get_or_create(name=CATALOGUE_ADMIN_GROUP)[0])
    user.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    return user


def test_the_admins_revoke_shows_each_refusal_revokes_the_rest_and_records_who(cast, client, monkeypatch):
    from django.contrib.admin.models import LogEntry

    from accounts import admin as token_admin
    from accounts.tokens import token_revoke
    from core.errors import NotPermitted

    for person in ("orderer_a", "orderer_b", "signatory_a"):
        make_token(getattr(cast, person))
    # The newest token is the first the action meets; a refusal there must not stop the other two.
    refused = ApiToken.objects.order_by("-created_at", "-pk").first()

    def revoke(*, token, actor):
        if token.pk == refused.pk:
            raise NotPermitted("Not this one.")
        return token_revoke(token=token, actor=actor)

    monkeypatch.setattr(token_admin, "token_revoke", revoke)
    admin = catalogue_admin(cast.am_a)
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": list(ApiToken.objects.values_list("pk", flat=True))},
        follow=True,
    )
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert shown == [("error", f"{refused}: Not this one."), ("success", "2 tokens were revoked.")]
    revoked = ApiToken.objects.exclude(pk=refused.pk)
    assert {(token.revoked_by, token.revoked_at is not None) for token in revoked} == {(admin, True)}
    assert ApiToken.objects.get(pk=refused.pk).revoked_at is None
    # Each revoked token, and only those, has a line in the admin's history saying who revoked it.
    entries = LogEntry.objects.filter(content_type__model="apitoken")
    assert sorted(int(entry.object_id) for entry in entries) == sorted(token.pk for token in revoked)
    assert {(entry.user, entry.is_change()) for entry in entries} == {(admin, True)}


def test_the_admin_list_says_who_revoked_a_token(cast, client):
    make_token(cast.orderer_a)
    token = ApiToken.objects.get()
    admin = catalogue_admin(cast.am_a)
    client.force_login(admin)
    client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_by == admin
    changelist = client.get("/admin/accounts/apitoken/").content.decode()
    assert "column-revoked_by" in changelist and str(admin) in changelist


def test_a_users_own_tokens_are_their_personal_tokens_and_no_one_elses(cast):
    from django.http import Http404

    from accounts.tokens import personal_token_for_user, personal_tokens_of

    make_token(cast.orderer_a)
    make_token(cast.orderer_b)
    make_token(None, ("register",), kind=ApiToken.Kind.GATEWAY)
    mine = ApiToken.objects.get(user=cast.orderer_a)
    assert list(personal_tokens_of(cast.orderer_a)) == [mine]
    assert personal_token_for_user(cast.orderer_a, mine.pk) == mine
    for other in ApiToken.objects.exclude(pk=mine.pk):
        with pytest.raises(Http404):
            personal_token_for_user(cast.orderer_a, other.pk)
