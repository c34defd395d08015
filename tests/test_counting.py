"""Counts that stop at "99+": the menu's badge and the worklists cost the same at 100 orders as at 10,000."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.context_processors import waiting_count
from core import counting
from core.counting import at_most, bounded_counts, bounded_firsts, page_of_union
from ordering.models import AccessOrder


@pytest.mark.parametrize(("count", "shown"), [(0, "0"), (98, "98"), (99, "99"), (100, "99+"), (4312, "99+")])
def test_a_count_is_shown_exactly_up_to_99_and_as_99_plus_past_it(count, shown):
    assert at_most(count) == shown


@pytest.mark.parametrize(("rows", "counted"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 3), (7, 3)])
def test_each_count_stops_one_past_its_bound(db, rows, counted):
    users = get_user_model().objects
    for n in range(rows):
        users.create(username=f"counted-{n}")
    users.create(username="other")  # not in the first set: each set is counted by its own condition
    counts = bounded_counts(
        {
            "counted": users.filter(username__startswith="counted-"),
            "other": users.filter(username="other"),
            "nothing": users.none(),
        },
        up_to=2,
    )
    assert counts == {"counted": counted, "other": 1, "nothing": 0}


def test_sets_that_can_hold_nothing_are_counted_without_a_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bounded_counts(
            {"none": AccessOrder.objects.none(), "no ids": AccessOrder.objects.filter(pk__in=[])}
        ) == {
            "none": 0,
            "no ids": 0,
        }
        assert bounded_counts({}) == {}


def test_all_counts_are_one_query_whose_every_set_is_limited(db):
    with CaptureQueriesContext(connection) as queries:
        bounded_counts({"a": AccessOrder.objects.all(), "b": AccessOrder.objects.filter(state="draft")}, up_to=5)
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert sql.count("COUNT(*)") == 2
    assert sql.count("LIMIT 6") == 2


@pytest.mark.parametrize(("rows", "kept"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 3), (7, 3)])
def test_each_sets_first_rows_stop_one_past_the_bound_in_the_sets_own_order(db, rows, kept):
    users = get_user_model().objects
    made = [users.create(username=f"first-{n}").pk for n in range(rows)]
    users.create(username="other")
    firsts = bounded_firsts(
        {
            "newest first": users.filter(username__startswith="first-").order_by("-pk"),
            "oldest first": users.filter(username__startswith="first-").order_by("pk"),
            "other": users.filter(username="other").order_by("pk"),
            "nothing": users.none().order_by("pk"),
        },
        up_to=2,
    )
    assert firsts == {
        "newest first": sorted(made, reverse=True)[:kept],
        "oldest first": made[:kept],
        "other": [users.get(username="other").pk],
        "nothing": [],
    }


def test_first_rows_of_many_sets_are_one_query_and_of_none_no_query(db):
    users = get_user_model().objects
    with CaptureQueriesContext(connection) as queries:
        bounded_firsts({"a": users.order_by("pk"), "b": users.filter(is_staff=True).order_by("-pk")}, up_to=5)
        assert bounded_firsts({"none": users.none().order_by("pk")}) == {"none": []}
        assert bounded_firsts({}) == {}
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert sql.count("LIMIT 6") == 2 and sql.count("UNION ALL") == 1


def test_an_unordered_set_has_no_first_rows(db):
    with pytest.raises(ValueError, match="only an ordered query set"):
        bounded_firsts({"unordered": AccessOrder.objects.order_by()})


@pytest.fixture
def united(db):
    """Two disjoint sets of users ordered by their last name, the key breaking ties: the order across both sets is
    c1 (a), b1 (b), b2 (b), c2 (c), b3 (d)."""
    users = get_user_model().objects
    made = {
        name: users.create(username=name, last_name=last)
        for name, last in [("b1", "b"), ("b2", "b"), ("b3", "d"), ("c1", "a"), ("c2", "c")]
    }
    users.create(username="neither", last_name="a")  # in no set
    sets = [users.filter(username__startswith="b"), users.filter(username__startswith="c")]
    return sets, [made[name].pk for name in ("c1", "b1", "b2", "c2", "b3")]


@pytest.mark.parametrize(("offset", "limit"), [(0, 2), (2, 2), (4, 2), (0, 5), (0, 6), (1, 3), (4, 1)])
def test_a_page_of_disjoint_sets_is_their_rows_in_one_order_with_their_count_in_one_query(
    united, django_assert_num_queries, offset, limit
):
    sets, in_order = united
    with django_assert_num_queries(1):
        ids, count = page_of_union(sets, ("last_name",), offset, limit)
    assert ids == in_order[offset : offset + limit]
    assert count == 5


@pytest.mark.parametrize("offset", [5, 6, 50])
def test_a_page_past_the_end_is_empty_and_counts_the_rows_in_a_second_query(united, django_assert_num_queries, offset):
    sets, _in_order = united
    with django_assert_num_queries(2):
        assert page_of_union(sets, ("last_name",), offset, 2) == ([], 5)


@pytest.mark.parametrize(
    ("offset", "limit", "count_up_to", "count"),
    [
        # Counted up to the bound: five rows are "more than 3" (4), "more than 4" (5), exactly 5 from a bound of 5.
        (0, 2, 3, 4),
        (0, 2, 4, 5),
        (0, 2, 5, 5),
        (0, 2, 6, 5),
        # A bound below the page's end is raised to it: the page itself is always read whole.
        (0, 2, 0, 3),
        (2, 2, 1, 5),
        (3, 2, 5, 5),
        (4, 1, 0, 5),
    ],
)
def test_a_bounded_page_of_disjoint_sets_counts_no_further_than_asked_and_is_the_same_page(
    united, django_assert_num_queries, offset, limit, count_up_to, count
):
    """Each set gives at most its first `count_up_to` + 1 rows in the order (at least the page's end + 1): a count
    past the bound says "more" as bound + 1, and the page is the one the whole sets give."""
    sets, in_order = united
    with django_assert_num_queries(1):
        ids, counted = page_of_union(sets, ("last_name",), offset, limit, count_up_to=count_up_to)
    assert ids == in_order[offset : offset + limit]
    assert counted == count


def test_a_bounded_page_of_one_set_reads_its_first_rows_only(united):
    """All three rows of the page's end and the one after come from one set: its limit is the page's end + 1."""
    (b_set, _c_set), _in_order = united
    b_in_order = list(b_set.order_by("last_name", "pk").values_list("pk", flat=True))
    assert page_of_union([b_set], ("last_name",), 0, 2, count_up_to=2) == (b_in_order[:2], 3)  # "more than 2"
    assert page_of_union([b_set], ("last_name",), 1, 2, count_up_to=3) == (b_in_order[1:3], 3)  # exactly 3


def test_a_bounded_page_past_the_end_counts_the_rows_exactly(united, django_assert_num_queries):
    sets, _in_order = united
    with django_assert_num_queries(2):
        assert page_of_union(sets, ("last_name",), 6, 2, count_up_to=26) == ([], 5)


def test_a_union_of_nothing_asks_one_query_or_none(db, django_assert_num_queries):
    users = get_user_model().objects
    with django_assert_num_queries(1):  # the first page of sets that hold nothing: no count needed past it
        assert page_of_union([users.filter(username="nobody")], ("last_name",), 0, 25) == ([], 0)
    with django_assert_num_queries(0):  # sets that can hold nothing are not asked
        assert page_of_union([users.none(), users.filter(pk__in=[])], ("last_name",), 0, 25) == ([], 0)


def test_the_menu_and_the_start_page_say_99_plus_past_the_bound(client, cast, order_in, monkeypatch):
    monkeypatch.setattr(counting, "COUNT_SHOWN_UP_TO", 2)
    for codes in (("opret-fravaer",), ("medarbejderoplysninger",), ("moedetidsplaner",)):
        order_in("submitted", codes=codes)
    client.force_login(cast.am_a)
    page = client.get(reverse("home")).content.decode()
    assert re.search(r'id="waiting-review">[^<]*\(2\+\)</h3>', page)
    assert '<span class="badge badge-small badge-info">2+<span class="sr-only">' in page
    monkeypatch.setattr(counting, "COUNT_SHOWN_UP_TO", 3)
    page = client.get(reverse("home")).content.decode()
    assert re.search(r'id="waiting-review">[^<]*\(3\)</h3>', page)
    assert '<span class="badge badge-small badge-info">3<span class="sr-only">' in page


def badge(body: str) -> str | None:
    found = re.search(r'<span class="badge badge-small badge-info">([^<]+)<span class="sr-only">', body)
    return found.group(1) if found else None


def test_the_menus_count_is_kept_a_minute_and_a_write_of_ones_own_forgets_it(client, cast, order_in, monkeypatch):
    """Issue 23: counting every worklist on every page was a third of a light page's CPU. Counted once a minute at
    most (kept in the session), afresh after the user's own write, and always afresh on the start page."""
    from types import SimpleNamespace

    clock = [1_000_000.0]
    monkeypatch.setattr("config.context_processors.waiting_count", waiting_count)  # kept, as in production
    monkeypatch.setattr("config.context_processors.time", SimpleNamespace(time=lambda: clock[0]))
    order_in("submitted", codes=("opret-fravaer",))
    client.force_login(cast.am_a)
    catalogue = reverse("ordering:catalogue")
    with CaptureQueriesContext(connection) as counted:
        assert badge(client.get(catalogue).content.decode()) == "1"
    order_in("submitted", codes=("medarbejderoplysninger",))  # somebody else's order, within the minute
    clock[0] += 59.999
    with CaptureQueriesContext(connection) as kept:
        assert badge(client.get(catalogue).content.decode()) == "1"
    assert len(kept.captured_queries) < len(counted.captured_queries)
    assert not any("COUNT(*)" in q["sql"] for q in kept.captured_queries)
    assert badge(client.get(reverse("home")).content.decode()) == "2"  # the start page counts afresh
    clock[0] += 0.001  # a minute after counting: afresh
    assert badge(client.get(catalogue).content.decode()) == "2"
    order_in("submitted", codes=("moedetidsplaner",))
    assert badge(client.get(catalogue).content.decode()) == "2"  # kept
    client.post(reverse("set_language"), {"language": "da", "next": catalogue})  # any write of the user's own
    assert badge(client.get(catalogue).content.decode()) == "3"


def test_the_kept_count_is_the_users_own(client, cast, order_in, monkeypatch):
    monkeypatch.setattr("config.context_processors.waiting_count", waiting_count)
    order_in("submitted", codes=("opret-fravaer",))
    client.force_login(cast.am_a)
    assert badge(client.get(reverse("ordering:catalogue")).content.decode()) == "1"
    client.force_login(cast.am_b)  # a new login, a new session: nothing of am_a's is read
    assert badge(client.get(reverse("ordering:catalogue")).content.decode()) is None
