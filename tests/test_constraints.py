"""The invariants of parley/1 hold in the database, whoever writes to it.

Each constraint test writes one row the database must refuse and then the nearest row it
must accept, so that a refusal for another reason (a missing column, a NOT NULL) would show.
"""

import datetime
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from negotiations.models import (
    DelegationMember,
    Outcome,
    OutcomeCitation,
    PositionCitation,
    Round,
    RoundCitation,
    RoundHost,
    StatementCitation,
)
from tests.factories import (
    DelegationFactory,
    DelegationMemberFactory,
    IssueFactory,
    NegotiationFactory,
    OutcomeFactory,
    PartyFactory,
    PersonFactory,
    PositionFactory,
    RoundFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

MARCH_1 = datetime.date(2022, 3, 1)
MARCH_2 = datetime.date(2022, 3, 2)


@contextmanager
def rejected(constraint: str | None = None):
    """The database refuses the write; the savepoint lets the test go on.

    Both backends name a violated CHECK constraint in the error, so pass its name.
    """
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        yield


# Identifiers unique within a negotiation


@pytest.mark.parametrize(
    ("factory", "field", "value"),
    [
        pytest.param(RoundFactory, "number", 1, id="round_number_unique_per_negotiation"),
        pytest.param(IssueFactory, "slug", "ceasefire", id="issue_slug_unique_per_negotiation"),
        pytest.param(SourceFactory, "key", "reuters-1", id="source_key_unique_per_negotiation"),
    ],
)
def test_identifier_is_unique_within_a_negotiation_but_not_across(factory, field, value):
    first = factory(**{field: value})
    with rejected():
        factory(negotiation=first.negotiation, **{field: value})
    other = factory(negotiation=NegotiationFactory(), **{field: value})
    model = factory._meta.model
    assert set(model.objects.filter(**{field: value})) == {first, other}


@pytest.mark.parametrize(
    "factory",
    [
        pytest.param(NegotiationFactory, id="negotiation"),
        pytest.param(PartyFactory, id="party"),
        pytest.param(PersonFactory, id="person"),
    ],
)
def test_slug_is_unique_across_the_whole_database(factory):
    factory(slug="russia-ukraine")
    with rejected():
        factory(slug="russia-ukraine")
    factory(slug="russia-ukraine-2")
    model = factory._meta.model
    assert model.objects.filter(slug__startswith="russia-ukraine").count() == 2


# Rounds and dates


def test_round_number_starts_at_one():
    with rejected("round_number_positive"):
        RoundFactory(number=0)
    RoundFactory(number=1)
    assert list(Round.objects.values_list("number", flat=True)) == [1]


@pytest.mark.parametrize(
    ("constraint", "factory", "start", "end"),
    [
        ("round_ends_after_start", RoundFactory, "start_date", "end_date"),
        ("negotiation_ends_after_start", NegotiationFactory, "started_on", "ended_on"),
    ],
)
def test_end_date_cannot_precede_start_date(constraint, factory, start, end):
    with rejected(constraint):
        factory(**{start: MARCH_2, end: MARCH_1})
    factory(**{start: MARCH_1, end: MARCH_1})  # a one-day round
    factory(**{start: MARCH_1, end: None})  # still going on
    factory(**{start: None, end: MARCH_1})  # start not reported
    assert factory._meta.model.objects.count() == 3


# What happened in a round


def test_a_round_has_one_outcome_per_issue():
    outcome = OutcomeFactory()
    with rejected():
        OutcomeFactory(round=outcome.round, issue=outcome.issue)
    later_round = RoundFactory(negotiation=outcome.round.negotiation)
    OutcomeFactory(round=later_round, issue=outcome.issue)
    OutcomeFactory(round=outcome.round)  # another issue of the same round
    assert outcome.issue.outcomes.count() == 2
    assert outcome.round.outcomes.count() == 2


def test_a_party_sends_one_delegation_per_round():
    delegation = DelegationFactory()
    with rejected():
        DelegationFactory(round=delegation.round, party=delegation.party)
    DelegationFactory(round=RoundFactory(), party=delegation.party)
    DelegationFactory(round=delegation.round)  # another party at the same round
    assert delegation.party.delegations.count() == 2
    assert delegation.round.delegations.count() == 2


def test_a_person_sits_once_in_a_delegation():
    member = DelegationMemberFactory(role="Head of delegation")
    with rejected():
        DelegationMemberFactory(delegation=member.delegation, person=member.person, role="Expert")
    DelegationMemberFactory(delegation=DelegationFactory(), person=member.person)
    assert member.person.memberships.count() == 2


def test_a_delegation_has_at_most_one_head():
    head = DelegationMemberFactory(is_head=True)
    with rejected():
        DelegationMemberFactory(delegation=head.delegation, is_head=True)
    DelegationMemberFactory(delegation=head.delegation, is_head=False)
    DelegationMemberFactory(delegation=head.delegation, is_head=False)
    DelegationMemberFactory(delegation=DelegationFactory(), is_head=True)
    members = DelegationMember.objects.filter(delegation=head.delegation)
    assert [m.is_head for m in members] == [True, False, False]


def test_a_party_hosts_a_round_once():
    round_, party = RoundFactory(), PartyFactory()
    RoundHost.objects.create(round=round_, party=party)
    with rejected():
        RoundHost.objects.create(round=round_, party=party)
    RoundHost.objects.create(round=RoundFactory(), party=party)
    assert list(round_.hosts.all()) == [party]
    assert party.hosted_rounds.count() == 2


def test_a_position_does_not_answer_itself():
    position = PositionFactory()
    position.responds_to = position
    with rejected("position_does_not_answer_itself"):
        position.save()
    position.refresh_from_db()
    answer = PositionFactory(round=position.round, issue=position.issue, responds_to=position)
    assert position.responds_to is None
    assert list(position.responses.all()) == [answer]


@pytest.mark.parametrize(
    ("citation", "factory", "field"),
    [
        pytest.param(RoundCitation, RoundFactory, "round", id="round_cites_source_once"),
        pytest.param(OutcomeCitation, OutcomeFactory, "outcome", id="outcome_cites_source_once"),
        pytest.param(
            PositionCitation, PositionFactory, "position", id="position_cites_source_once"
        ),
        pytest.param(
            StatementCitation, StatementFactory, "statement", id="statement_cites_source_once"
        ),
    ],
)
def test_a_claim_cites_a_source_once(citation, factory, field):
    claim, source = factory(), SourceFactory()
    citation.objects.create(**{field: claim, "source": source})
    with rejected():
        citation.objects.create(**{field: claim, "source": source})
    other_source = SourceFactory()
    citation.objects.create(**{field: claim, "source": other_source})
    citation.objects.create(**{field: factory(), "source": source})
    assert set(claim.sources.all()) == {source, other_source}
    assert citation.objects.filter(source=source).count() == 2


# Rules the database cannot express: model.clean()


@pytest.mark.parametrize(
    "factory",
    [pytest.param(OutcomeFactory, id="outcome"), pytest.param(PositionFactory, id="position")],
)
def test_a_claim_cannot_be_about_an_issue_of_another_negotiation(factory):
    round_ = RoundFactory()
    foreign = factory.build(round=round_, issue=IssueFactory())
    with pytest.raises(ValidationError) as excinfo:
        foreign.clean()
    assert excinfo.value.message_dict == {"issue": ["This issue belongs to another negotiation."]}
    factory.build(round=round_, issue=IssueFactory(negotiation=round_.negotiation)).clean()


def test_a_position_cannot_answer_a_position_of_another_negotiation():
    earlier = PositionFactory()
    round_ = RoundFactory()
    issue = IssueFactory(negotiation=round_.negotiation)
    answer = PositionFactory.build(round=round_, issue=issue, responds_to=earlier)
    with pytest.raises(ValidationError) as excinfo:
        answer.clean()
    assert list(excinfo.value.message_dict) == ["responds_to"]
    same_negotiation = PositionFactory(round__negotiation=round_.negotiation, issue=issue)
    answer.responds_to = same_negotiation
    answer.clean()


def test_a_position_key_is_unique_within_a_negotiation():
    first = PositionFactory(key="security-guarantees")
    later_round = RoundFactory(negotiation=first.round.negotiation)
    clash = PositionFactory.build(round=later_round, issue=first.issue, key="security-guarantees")
    with pytest.raises(ValidationError) as excinfo:
        clash.clean()
    assert list(excinfo.value.message_dict) == ["key"]
    first.clean()  # a position does not clash with itself
    elsewhere = RoundFactory()
    PositionFactory.build(
        round=elsewhere,
        issue=IssueFactory(negotiation=elsewhere.negotiation),
        key="security-guarantees",
    ).clean()


# Reusable reads


def test_published_rounds_exclude_drafts():
    published = RoundFactory(published=True)
    RoundFactory(published=False)
    assert list(Round.objects.published()) == [published]


def test_chronological_orders_by_start_date_then_number_with_undated_rounds_last():
    negotiation = NegotiationFactory()

    def round_(number: int, start_date: datetime.date | None) -> Round:
        return RoundFactory(negotiation=negotiation, number=number, start_date=start_date)

    late = round_(1, MARCH_2)
    undated = round_(2, None)
    early = round_(3, MARCH_1)
    late_same_day = round_(4, MARCH_2)
    undated_later = round_(5, None)
    assert list(Round.objects.chronological()) == [
        early,
        late,
        late_same_day,
        undated,
        undated_later,
    ]


# Rounds, then the names of their hosts, their outcomes (with their issue's title), their
# delegations (with the party's name) and the heads' names: one query each, however many.
TIMELINE_QUERIES = 5


@pytest.mark.parametrize("count", [5, 50])
def test_timeline_reads_any_number_of_rounds_in_a_fixed_number_of_queries(
    count, django_assert_num_queries
):
    negotiation = NegotiationFactory()
    host = PartyFactory()
    for number in range(1, count + 1):
        round_ = RoundFactory(negotiation=negotiation, number=number)
        RoundHost.objects.create(round=round_, party=host)
        OutcomeFactory.create_batch(2, round=round_, status=Outcome.Status.AGREED)
        delegation = DelegationFactory(round=round_)
        DelegationMemberFactory(delegation=delegation, is_head=True, role="Head")
        DelegationMemberFactory(delegation=delegation, is_head=False)
        DelegationFactory(round=round_)  # its head was not reported

    with django_assert_num_queries(TIMELINE_QUERIES):
        rounds = list(Round.objects.published().chronological().for_timeline())

    assert [round_.number for round_ in rounds] == list(range(1, count + 1))
    for round_ in rounds:
        assert round_.host_list == [host.name]
        outcomes = list(round_.outcomes.order_by("issue__order", "issue_id"))
        assert round_.outcome_list == [
            ("agreed", "Agreed", outcome.issue.title) for outcome in outcomes
        ]
        led, unreported = round_.delegations.order_by("id")
        head = led.members.get(is_head=True)
        assert round_.delegation_list == [
            (led.party.name, [head.person.name]),
            (unreported.party.name, []),
        ], "only heads are listed, and a delegation without one is kept"
