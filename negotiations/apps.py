from django.apps import AppConfig


class NegotiationsConfig(AppConfig):
    name = "negotiations"
    verbose_name = "Negotiations"

    def ready(self) -> None:
        from . import cache, derived

        cache.connect_signals()
        derived.connect_signals()
