"""The rounds taking an issue up, read from (issue, published, round) indexes (published:
the copy of the round's state, see InRound)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('negotiations', '0009_issue_histories_stored'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='outcome',
            name='outcome_issue_round_idx',
        ),
        migrations.AddIndex(
            model_name='outcome',
            index=models.Index(fields=['issue', 'published', 'round'], name='outcome_issue_round_idx'),
        ),
        migrations.AddIndex(
            model_name='position',
            index=models.Index(fields=['issue', 'published', 'round'], name='position_issue_round_idx'),
        ),
    ]
