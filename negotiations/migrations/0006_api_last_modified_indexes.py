"""Indexes for the API's Last-Modified: the latest save of a negotiation's rounds, and
the latest deletion of one (a partial index on the history, which has no model Meta)."""

from django.db import migrations, models

DELETIONS = "negotiations_historicalround_deletions"


class Migration(migrations.Migration):
    dependencies = [
        ("negotiations", "0005_round_parts_name_their_negotiation"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="round",
            index=models.Index(fields=["negotiation", "updated_at"], name="round_saved_idx"),
        ),
        # PostgreSQL and SQLite both take partial indexes, in this same syntax.
        migrations.RunSQL(
            f"CREATE INDEX {DELETIONS} ON negotiations_historicalround "
            "(negotiation_id, history_date) WHERE history_type = '-'",
            f"DROP INDEX {DELETIONS}",
        ),
    ]
