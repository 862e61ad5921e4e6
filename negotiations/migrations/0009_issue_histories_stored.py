"""Each issue's history of changes and chains of answers, stored (see negotiations.derived)
and worked out here for the issues there are."""

from django.db import migrations, models


def work_out(apps, schema_editor):
    # The app's own code, not historical models: it is the one rule for these values, and
    # this is the latest migration. Elidable: a later squash drops it.
    from negotiations import derived
    from negotiations.models import Issue

    derived.refresh(Issue.objects.select_related("negotiation").iterator())


class Migration(migrations.Migration):

    dependencies = [
        ('negotiations', '0008_people_rounds_in_order'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicaloutcome',
            name='move',
            field=models.PositiveIntegerField(editable=False, help_text="Its place among the outcomes that changed the issue's status (derived).", null=True),
        ),
        migrations.AddField(
            model_name='historicalposition',
            name='chain',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='historicalposition',
            name='chain_depth',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='historicalposition',
            name='chain_link',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='historicalposition',
            name='chain_size',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='outcome',
            name='move',
            field=models.PositiveIntegerField(editable=False, help_text="Its place among the outcomes that changed the issue's status (derived).", null=True),
        ),
        migrations.AddField(
            model_name='position',
            name='chain',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='position',
            name='chain_depth',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='position',
            name='chain_link',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='position',
            name='chain_size',
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name='outcome',
            index=models.Index(condition=models.Q(('move__isnull', False)), fields=['issue', 'move'], name='outcome_moves_idx'),
        ),
        migrations.AddIndex(
            model_name='position',
            index=models.Index(condition=models.Q(('chain__isnull', False)), fields=['issue', 'chain', 'chain_link'], name='position_chains_idx'),
        ),
        migrations.RunPython(work_out, migrations.RunPython.noop, elidable=True),
    ]
