from .reader import BoardDates, TimelineFilter

__all__ = ["BoardDates", "TimelineFilter"]
