"""The test suite's settings: the project's own, plus a second database alias.

``replica`` is Django's test mirror of ``default``: a second connection to the same test
database, so that tests/test_replica.py can see which alias each query goes to. Only
those tests install the replica router; everywhere else every query uses ``default``,
as in a deployment without a replica.
"""

import copy

from config.settings import *  # noqa: F403
from config.settings import DATABASES

DATABASES["replica"] = {**copy.deepcopy(DATABASES["default"]), "TEST": {"MIRROR": "default"}}


class ReplicaNeverMigrated:
    """Reads and writes go to ``default`` (no opinion here); the replica, like a real one,
    is never migrated, so system checks (JSONField's, on SQLite) leave it alone too."""

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db != "replica"


DATABASE_ROUTERS = [ReplicaNeverMigrated()]
