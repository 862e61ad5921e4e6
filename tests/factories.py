import datetime

import factory

from negotiations import models


class NegotiationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Negotiation

    slug = factory.Sequence(lambda n: f"talks-{n}")
    title = factory.Sequence(lambda n: f"Talks number {n}")
    summary = "Direct talks between two delegations."
    status = models.Negotiation.Status.ACTIVE
    started_on = datetime.date(2022, 2, 28)


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Party

    slug = factory.Sequence(lambda n: f"party-{n}")
    name = factory.Sequence(lambda n: f"Party {n}")
    kind = models.Party.Kind.STATE


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Person

    slug = factory.Sequence(lambda n: f"person-{n}")
    name = factory.Sequence(lambda n: f"Person {n}")
    party = factory.SubFactory(PartyFactory)


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Issue

    negotiation = factory.SubFactory(NegotiationFactory)
    slug = factory.Sequence(lambda n: f"issue-{n}")
    title = factory.Sequence(lambda n: f"Issue {n}")
    order = factory.Sequence(lambda n: n)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Source

    negotiation = factory.SubFactory(NegotiationFactory)
    key = factory.Sequence(lambda n: f"source-{n}")
    url = factory.Sequence(lambda n: f"https://news.example.org/{n}")
    title = "A report"
    publisher = "Example News"


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Round

    negotiation = factory.SubFactory(NegotiationFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.LazyAttribute(lambda r: f"Round {r.number}")
    status = models.Round.Status.HELD
    published = True
    start_date = factory.LazyAttribute(
        lambda r: datetime.date(2022, 3, 1) + datetime.timedelta(days=r.number)
    )
    end_date = factory.LazyAttribute(lambda r: r.start_date)
    location = "Istanbul"
    format = models.Round.Format.IN_PERSON


class DelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Delegation

    round = factory.SubFactory(RoundFactory)
    party = factory.SubFactory(PartyFactory)


class DelegationMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.DelegationMember

    delegation = factory.SubFactory(DelegationFactory)
    person = factory.SubFactory(PersonFactory)
    role = "Member"


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Outcome

    round = factory.SubFactory(RoundFactory)
    issue = factory.SubFactory(
        IssueFactory, negotiation=factory.SelfAttribute("..round.negotiation")
    )
    status = models.Outcome.Status.UNDER_DISCUSSION
    text = "Consultations continue."


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Position

    round = factory.SubFactory(RoundFactory)
    party = factory.SubFactory(PartyFactory)
    issue = factory.SubFactory(
        IssueFactory, negotiation=factory.SelfAttribute("..round.negotiation")
    )
    stance = models.Position.Stance.DEMAND
    text = "A demand."


class StatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Statement

    round = factory.SubFactory(RoundFactory)
    person = factory.SubFactory(PersonFactory)
    said_on = factory.LazyAttribute(lambda s: s.round.start_date)
    text = "We hope the corridors will start working."
