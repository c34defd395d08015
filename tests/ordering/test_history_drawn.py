"""The order page's history drawn in Python (`{% history_items %}`, ordering/templatetags/thread.py) reads exactly as
the template engine drew it: every value escaped, dates in the reader's language and time zone."""

import datetime

import pytest
from django.db import transaction
from django.template import Context, Template
from django.utils import translation

from audit.models import AuditEvent
from audit.trail import audit_record
from certificates.audit import CertificateAuditKind
from ordering.audit import AuditKind
from ordering.templatetags.thread import history_items

# The history as the template engine drew it before `{% history_items %}` (templates/ordering/order_detail.html).
HISTORY_AS_TEMPLATE = """{% for event in events %}
  <li>
    <strong>{{ event.get_kind_display }}</strong><br>
    <span class="nowrap">{{ event.created_at|date:"SHORT_DATETIME_FORMAT" }}</span> · {{ event.actor_name }}{% if event.actor_role %} ({{ event.get_actor_role_display }}){% endif %}
    {% with text=event.comment_for_reader %}{% if text %}<p class="mt-2 mb-0">{{ text|linebreaksbr }}</p>{% endif %}{% endwith %}
  </li>
{% endfor %}"""


def _same(drawn: str, expected: str) -> bool:
    return " ".join(drawn.split()).replace("> <", "><") == " ".join(expected.split()).replace("> <", "><")


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_history_is_drawn_as_the_template_drew_it_every_value_escaped(cast, order_in, language):
    order = order_in("active")
    evil = '<script>alert("x")</script> & "quoted"'
    with transaction.atomic():
        # What a person typed, over lines; parameters that make sentences; Opus Adgang itself as the actor.
        audit_record(
            kind=AuditKind.CONSULTING_REQUEST_ANSWERED,
            order=order,
            actor=cast.am_a,
            role="account_manager",
            comment=f"{evil}\r\nAnden linje\n\nTredje",
        )
        audit_record(
            kind=CertificateAuditKind.CERTIFICATE_UPLOADED,
            order=order,
            actor=cast.orderer_a,
            role="orderer",
            params={
                "certificate_subject": "CN=<b>Fravær</b>,C=DK",
                "certificate_valid_to_on": datetime.date(2029, 12, 4),
            },
        )
        audit_record(kind=AuditKind.TEST_ACCESS_EXPIRING, order=order, job="test_access_sweep")
    events = list(AuditEvent.objects.filter(order=order).select_related("actor").order_by("seq"))
    assert len(events) > 5 and any(not e.actor_role for e in events)
    with translation.override(language):
        expected = Template(HISTORY_AS_TEMPLATE).render(Context({"events": events}))
        drawn = history_items(events)
    assert _same(drawn, expected)
    assert "<script>" not in drawn and "&lt;script&gt;alert(&quot;x&quot;)" in drawn
    assert "&amp; &quot;quoted&quot;<br>Anden linje<br><br>Tredje" in drawn  # each line break of each kind
    assert "CN=&lt;b&gt;Fravær&lt;/b&gt;,C=DK" in drawn
    assert ("04.12.2029" if language == "da" else "04/12/2029") in drawn


def test_an_order_page_shows_its_history_drawn_by_the_tag(cast, order_in, client):
    order = order_in("active")
    client.force_login(cast.orderer_a)
    page = client.get(order.get_absolute_url()).content.decode()
    history = page[page.index('<ol class="timeline">') : page.index("</ol>", page.index('<ol class="timeline">'))]
    events = list(AuditEvent.objects.filter(order=order).select_related("actor").order_by("seq"))
    with translation.override("da"):
        assert _same(history.removeprefix('<ol class="timeline">'), history_items(events))
    assert history.count("<li>") == len(events)
