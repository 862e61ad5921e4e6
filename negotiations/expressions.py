"""Query pieces shared by the reader pages and search."""

from django.db.models import Exists


class Probe(Exists):
    """EXISTS, checked row by row through an index. PostgreSQL would otherwise hash the
    whole subquery (every citation of every negotiation, every outcome of an issue) as
    soon as it expects to check more than a few rows; an OFFSET, even of none, keeps it
    from doing so."""

    template = "EXISTS(%(subquery)s OFFSET 0)"
