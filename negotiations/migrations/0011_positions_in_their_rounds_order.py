"""Positions carry their round's start date and number, and a party's positions on an
issue are indexed in the rounds' order (its stance before a round is one probe)."""

from django.db import migrations, models


def fill_in(apps, schema_editor):
    Round = apps.get_model("negotiations", "Round")
    Position = apps.get_model("negotiations", "Position")
    of_round = Round.objects.filter(pk=models.OuterRef("round"))
    Position.objects.update(
        round_start_date=models.Subquery(of_round.values("start_date")[:1]),
        round_number=models.Subquery(of_round.values("number")[:1]),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('negotiations', '0010_issue_rounds_from_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='position',
            name='position_issue_party_idx',
        ),
        migrations.AddField(
            model_name='historicalposition',
            name='round_number',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='historicalposition',
            name='round_start_date',
            field=models.DateField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='position',
            name='round_number',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='position',
            name='round_start_date',
            field=models.DateField(editable=False, null=True),
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='position',
            index=models.Index(fields=['issue', 'party', 'round_start_date', 'round_number', 'id'], name='position_pair_in_order_idx'),
        ),
    ]
