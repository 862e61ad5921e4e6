"""Outcomes, positions and statements carry their round's negotiation and whether it is
published, as hosts and delegations do since 0005 (see models.InRound): filled in from
the rounds, then required."""

from importlib import import_module

from django.db import migrations, models

parts = import_module("negotiations.migrations.0005_round_parts_name_their_negotiation")
MODELS = ("Outcome", "Position", "Statement")


def fill_in(apps, schema_editor):
    Round = apps.get_model("negotiations", "Round")
    for name in MODELS:
        model = apps.get_model("negotiations", name)
        of_round = Round.objects.filter(pk=models.OuterRef("round"))
        model.objects.update(
            negotiation=models.Subquery(of_round.values("negotiation")[:1]),
            published=models.Subquery(of_round.values("published")[:1]),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("negotiations", "0006_api_last_modified_indexes"),
    ]

    operations = [
        *(
            op
            for model in (name.lower() for name in MODELS)
            for op in (
                migrations.AddField(
                    model_name=model, name="negotiation", field=parts.negotiation(True)
                ),
                migrations.AddField(model_name=model, name="published", field=parts.published()),
                migrations.AddField(
                    model_name=f"historical{model}",
                    name="negotiation",
                    field=parts.negotiation_in_history(),
                ),
                migrations.AddField(
                    model_name=f"historical{model}", name="published", field=parts.published()
                ),
            )
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop, elidable=True),
        *(
            migrations.AlterField(
                model_name=name.lower(), name="negotiation", field=parts.negotiation(False)
            )
            for name in MODELS
        ),
    ]
