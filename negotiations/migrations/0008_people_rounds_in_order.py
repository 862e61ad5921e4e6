"""Delegation members carry their round's state, start date and number, and a person's
memberships and statements are indexed newest first (the person page)."""

from django.db import migrations, models


def fill_in(apps, schema_editor):
    Round = apps.get_model("negotiations", "Round")
    Member = apps.get_model("negotiations", "DelegationMember")
    of_round = Round.objects.filter(delegations=models.OuterRef("delegation"))
    Member.objects.update(
        published=models.Subquery(of_round.values("published")[:1]),
        round_start_date=models.Subquery(of_round.values("start_date")[:1]),
        round_number=models.Subquery(of_round.values("number")[:1]),
    )


def _indexes(vendor: str):
    """A person's memberships and statements, newest first and undated last, as the
    person page reads them. SQLite cannot say NULLS LAST in an index: there the order
    is left out, and the page is sorted."""
    postgresql = vendor == "postgresql"

    def latest(field):
        return models.F(field).desc(nulls_last=True) if postgresql else models.F(field)

    published = models.Q(published=True)
    yield "DelegationMember", models.Index(
        models.F("person"),
        latest("round_start_date"),
        *([models.F("round_number").desc(), models.F("id").desc()] if postgresql else []),
        condition=published,
        name="membership_by_person_idx",
    )
    yield "Statement", models.Index(
        models.F("person"),
        latest("said_on"),
        *([models.F("id").desc()] if postgresql else []),
        condition=published,
        name="statement_by_person_idx",
    )


def create_indexes(apps, schema_editor):
    for name, index in _indexes(schema_editor.connection.vendor):
        schema_editor.add_index(apps.get_model("negotiations", name), index)


def drop_indexes(apps, schema_editor):
    for name, index in _indexes(schema_editor.connection.vendor):
        schema_editor.remove_index(apps.get_model("negotiations", name), index)


class Migration(migrations.Migration):

    dependencies = [
        ('negotiations', '0007_round_items_name_their_negotiation'),
    ]

    operations = [
        migrations.AddField(
            model_name='delegationmember',
            name='published',
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name='delegationmember',
            name='round_number',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='delegationmember',
            name='round_start_date',
            field=models.DateField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='historicaldelegationmember',
            name='published',
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name='historicaldelegationmember',
            name='round_number',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='historicaldelegationmember',
            name='round_start_date',
            field=models.DateField(editable=False, null=True),
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
