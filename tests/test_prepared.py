"""Queries compiled once per process: the same rows as the ORM's query set, without building or compiling it again."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import counting, prepared
from core.prepared import Prepared, PreparedStatement, attach
from ordering.models import AccessOrder, Customer, CustomerMembership
from tests.conftest import make_order

User = get_user_model()


@pytest.fixture
def compilations(monkeypatch):
    """How many times Django compiles a query (a top-level SQLCompiler.as_sql)."""
    counted = []
    original = SQLCompiler.as_sql

    def as_sql(self, *args, **kwargs):
        counted.append(self.query.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", as_sql)
    return counted


def users_named(p):
    return User.objects.filter(first_name=p.prefix).order_by("username").values_list("username", flat=True)


def make_users(*names: str) -> None:
    """Users named `<group>-<n>`, their first name their group."""
    for name in names:
        User.objects.create(username=name, first_name=name.split("-")[0])


def test_each_run_gives_the_rows_of_its_own_values(db):
    make_users("a-1", "a-2", "b-1")
    named = Prepared(users_named)
    assert named.all(prefix="a") == ["a-1", "a-2"]
    assert named.all(prefix="b") == ["b-1"]
    assert named.all(prefix="c") == []
    assert named.first(prefix="b") == "b-1"
    assert named.first(prefix="c") is None


def test_the_query_is_compiled_once_and_run_each_time(db, compilations, monkeypatch):
    monkeypatch.setattr(prepared, "CHECK", False)  # the check compiles the ORM's query on purpose
    named = Prepared(users_named)
    with CaptureQueriesContext(connection) as queries:
        for prefix in ("a", "b", "c"):
            named.all(prefix=prefix)
    assert len(queries.captured_queries) == 3
    assert compilations == [User]


def test_model_instances_come_with_their_related_rows(db, cast, django_assert_num_queries):
    order = make_order(cast)
    with_customer = Prepared(lambda p: AccessOrder.objects.filter(pk=p.pk).select_related("customer__account_manager"))
    with django_assert_num_queries(1):
        (found,) = with_customer.all(pk=order.pk)
        assert found == order
        assert found.customer.account_manager == cast.am_a  # read with it, no query of its own
    assert isinstance(found, AccessOrder) and found._state.adding is False and found._state.db == "default"


@pytest.mark.parametrize(
    ("wanted", "found"),
    [
        ([], []),  # the ORM asks nothing for an empty `__in`; neither does the prepared query
        (["x-1"], ["x-1"]),
        (["x-1", "x-2"], ["x-1", "x-2"]),
        (["x-2", "x-2", None, "x-1"], ["x-1", "x-2"]),  # each value once, None left out, as the ORM does
        (("x-3",), ["x-3"]),
        ({"x-1", "nobody"}, ["x-1"]),
    ],
)
def test_a_list_of_values_is_compiled_per_length(db, wanted, found, django_assert_num_queries):
    for name in ("x-1", "x-2", "x-3"):
        User.objects.create(username=name)
    among = Prepared(
        lambda p: (
            User.objects.filter(username__in=p.list("names")).order_by("username").values_list("username", flat=True)
        )
    )
    with django_assert_num_queries(1 if found else 0):
        assert among.all(names=wanted) == found


def test_a_shape_chooses_among_compiled_queries(db):
    make_users("s-1", "s-2")
    ordered = Prepared(
        lambda p, newest_first: (
            User.objects.filter(first_name=p.prefix)
            .order_by("-username" if newest_first else "username")
            .values_list("username", flat=True)
        )
    )
    assert ordered.all(shape=(False,), prefix="s") == ["s-1", "s-2"]
    assert ordered.all(shape=(True,), prefix="s") == ["s-2", "s-1"]
    assert ordered.all(shape=(False,), prefix="s") == ["s-1", "s-2"]


def test_the_check_refuses_a_builder_that_reads_more_than_its_slots(db):
    """Anything but the slots and the shape is fixed at the first run: the check (on in the tests) says so."""
    outside = {"group": "a"}
    leaky = Prepared(lambda p: User.objects.filter(first_name=outside["group"], pk__gt=p.floor))
    leaky.all(floor=0)
    outside["group"] = "b"
    with pytest.raises(AssertionError, match="differs from the ORM's"):
        leaky.all(floor=0)


def test_the_check_refuses_a_lookup_whose_sql_differs_for_an_expression(db):
    """`startswith` escapes a value in Python but an expression in SQL: not the ORM's query, so refused."""
    starting = Prepared(lambda p: User.objects.filter(username__startswith=p.prefix))
    with pytest.raises(AssertionError, match="differs from the ORM's"):
        starting.all(prefix="a")


def test_the_check_refuses_a_value_the_orm_would_have_prepared_otherwise(db):
    by_id = Prepared(lambda p: User.objects.filter(pk=p.pk))
    assert by_id.all(pk=1) == []
    with pytest.raises(AssertionError, match="differs from the ORM's"):
        by_id.all(pk="1")  # the ORM would ask for the number 1


def test_a_run_on_another_thread_uses_that_threads_connection(transactional_db):
    make_users("t-1")
    named = Prepared(users_named)
    assert named.all(prefix="t") == ["t-1"]  # compiled on this thread
    seen = []

    def elsewhere():
        try:
            seen.append(named.all(prefix="t"))
        finally:
            connection.close()

    worker = threading.Thread(target=elsewhere)
    worker.start()
    worker.join()
    assert seen == [["t-1"]]


def test_attached_rows_answer_the_relation_without_a_query(db, cast, django_assert_num_queries):
    customer = cast.customer_a
    of_customer = Prepared(lambda p: CustomerMembership.objects.filter(customer_id=p.customer).order_by("pk"))
    rows = of_customer.all(customer=customer.pk)
    assert len(rows) == 2
    with django_assert_num_queries(0):
        attach(customer, "memberships", rows)
        assert list(customer.memberships.all()) == rows
        assert all(membership.customer is customer for membership in customer.memberships.all())
    # Chained further, the relation still asks for this customer's rows only.
    assert list(customer.memberships.filter(is_orderer=True)) == [m for m in rows if m.is_orderer]
    assert {m.user for m in customer.memberships.filter(is_signatory=True)} == {cast.signatory_a}


def test_customers_seen_through_a_subquery_of_slots(db, cast):
    """A slot inside a sub-query (the tenant rule's memberships) is filled like any other."""
    mine = Prepared(
        lambda p: Customer.objects.filter(
            pk__in=CustomerMembership.objects.filter(user_id=p.user).values("customer_id")
        ).order_by("pk")
    )
    assert mine.all(user=cast.orderer_a.pk) == [cast.customer_a]
    assert mine.all(user=cast.orderer_b.pk) == [cast.customer_b]
    assert mine.all(user=cast.outsider.pk) == []


# --- Every request's own reads: the session and its user ---------------------------------------------------------


def test_a_logged_in_request_compiles_neither_its_session_nor_its_user(client, cast, compilations, monkeypatch):
    monkeypatch.setattr(prepared, "CHECK", False)  # the check compiles the ORM's query on purpose
    client.force_login(cast.orderer_a)
    client.get("/")  # the first request of the process may compile them
    compilations.clear()
    response = client.get("/")
    assert response.status_code == 200 and response.context["user"] == cast.orderer_a
    assert Session not in compilations and User not in compilations
    assert compilations  # the page's own reads that are not prepared still compile: the fixture counts


@pytest.mark.parametrize(("before_expiry", "logged_in"), [(timedelta(microseconds=1), True), (timedelta(0), False)])
def test_a_session_is_read_until_the_instant_it_expires(client, cast, before_expiry, logged_in):
    client.force_login(cast.orderer_a)
    # Within the idle and absolute lifetimes (accounts/sessions.py), which would log out first.
    expiry = timezone.now() + timedelta(minutes=1)
    Session.objects.update(expire_date=expiry)
    with time_machine.travel(expiry - before_expiry, tick=False):
        response = client.get("/")
    assert (response.status_code == 200) is logged_in
    if not logged_in:
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_user_who_may_no_longer_log_in_is_no_longer_the_sessions(client, cast):
    client.force_login(cast.orderer_a)
    User.objects.filter(pk=cast.orderer_a.pk).update(is_active=False)
    response = client.get("/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- Statements composed from query sets (core.counting), and how many shapes are kept ---------------------------


def counts_named(p, *groups):
    return counting.bounded_counts_statement({g: User.objects.filter(first_name=g, pk__gt=p.floor) for g in groups})


def test_a_statement_is_built_once_per_shape_and_run_with_each_runs_values(db, compilations, monkeypatch):
    monkeypatch.setattr(prepared, "CHECK", False)  # the check compiles the ORM's query on purpose
    make_users("a-1", "a-2", "b-1")
    floor = User.objects.get(username="a-1").pk  # a-2 and b-1 lie above it
    compilations.clear()
    counts = PreparedStatement(counts_named)
    assert counting.run_bounded_counts(counts.statement(shape=("a", "b"), floor=0)) == {"a": 2, "b": 1}
    assert counting.run_bounded_counts(counts.statement(shape=("a", "b"), floor=floor)) == {"a": 1, "b": 1}
    assert counting.run_bounded_counts(counts.statement(shape=("b",), floor=0)) == {"b": 1}
    assert compilations == [User, User, User]  # a set each for the first shape, one for the second; no more


def test_the_check_refuses_a_statement_that_reads_more_than_its_slots(db):
    outside = {"group": "a"}
    leaky = PreparedStatement(
        lambda p: counting.bounded_counts_statement(
            {"n": User.objects.filter(first_name=outside["group"], pk__gt=p.floor)}
        )
    )
    leaky.statement(floor=0)
    outside["group"] = "b"
    with pytest.raises(AssertionError, match="differs from the ORM's"):
        leaky.statement(floor=0)


def test_no_more_than_the_kept_number_of_shapes_is_kept(db, monkeypatch):
    """A shape a request chooses (the account manager's queue page by number) cannot grow a process's memory: past
    KEPT_SHAPES a shape is compiled for its run and not kept; each run still gives its own rows."""
    monkeypatch.setattr(prepared, "KEPT_SHAPES", 2)
    make_users("k-1")
    ordered = Prepared(lambda p, n: User.objects.filter(first_name=p.prefix).values_list("username", flat=True)[:n])
    counts = PreparedStatement(counts_named)
    for n in (1, 2, 3, 4):
        assert ordered.all(shape=(n,), prefix="k") == ["k-1"]
        assert counting.run_bounded_counts(counts.statement(shape=("k",) * n, floor=0)) == {"k": 1}
    assert len(ordered._compiled) == len(counts._built) == 2  # exactly the bound: the third shape is not kept


@pytest.mark.parametrize(("typed", "asked"), [(prepared.LARGEST_KEY, 1), (prepared.LARGEST_KEY + 1, 0), (-(2**63), 1)])
def test_an_id_no_key_can_equal_finds_no_row_and_asks_nothing(db, typed, asked, django_assert_num_queries):
    """A number typed into a URL or a form past the largest key the databases hold: the ORM finds no row for it
    (SQLite cannot even be given it); neither does a prepared query, without asking. At the largest key it asks."""
    by_id = Prepared(lambda p: User.objects.filter(pk=p.pk))
    among = Prepared(lambda p: User.objects.filter(pk__in=p.list("ids")))
    with django_assert_num_queries(asked * 2):
        assert by_id.all(pk=typed) == [] and among.all(ids=[1, typed]) == []


@pytest.mark.parametrize("path", ["/orders/99999999999999999999999/", "/orders/new/?customer=99999999999999999999999"])
def test_a_page_given_an_id_past_any_key_is_not_found_or_ignored_never_an_error(client, cast, path):
    client.force_login(cast.orderer_a)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("prefix", ["a_", "a%", "a\\", "ab", "", "x"])
def test_a_prefix_given_as_a_pattern_finds_what_startswith_finds_wildcards_and_all(db, prefix):
    """`startswith` with a slot is not the ORM's query (its wildcards escaped in SQL); `starts_with_pattern` sends the
    pattern `startswith` sends for a value: the same rows, `_`, `%` and `\\` taken literally."""
    from django.db.models import CharField

    from core.prepared import StartsWithPattern, starts_with_pattern

    make_users("a_1", "a%2", "a\\3", "ab-4", "aX5", "x-6")
    field = User._meta.get_field("username")
    assert isinstance(field, CharField)
    field.register_lookup(StartsWithPattern)
    try:
        prefixed = Prepared(
            lambda p: (
                User.objects.filter(username__starts_with_pattern=p.pattern)
                .order_by("username")
                .values_list("username", flat=True)
            )
        )
        expected = list(
            User.objects.filter(username__startswith=prefix).order_by("username").values_list("username", flat=True)
        )
        assert prefixed.all(pattern=starts_with_pattern(prefix)) == expected
        assert expected  # a prefix that finds nothing would test nothing
    finally:
        field._unregister_lookup(StartsWithPattern)
