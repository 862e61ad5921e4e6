"""GIN indexes for full-text search, on PostgreSQL only (SQLite searches without them).

Each index is built on the very expression negotiations.search queries with, which is
what lets PostgreSQL use it. They are created here rather than in the models' Meta,
because SQLite cannot create a GIN index.
"""

from django.apps import apps as global_apps
from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

INDEXES = {
    "round": "round_search_idx",
    "outcome": "outcome_search_idx",
    "position": "position_search_idx",
    "statement": "statement_search_idx",
    "source": "source_search_idx",
}


def _indexes(apps):
    from negotiations import search

    for model_name, index_name in INDEXES.items():
        # The vector names fields only, so it serves the historical model as well.
        vector = search.vector(global_apps.get_model("negotiations", model_name))
        yield apps.get_model("negotiations", model_name), GinIndex(vector, name=index_name)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.add_index(model, index)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [("negotiations", "0002_round_version")]

    operations = [migrations.RunPython(create, drop)]
