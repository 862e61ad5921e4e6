from django.urls import path

from .feeds import IssueFeed, RoundsFeed
from .views import analyst, exports, reader

urlpatterns = [
    path("", reader.home, name="home"),
    path("healthz", reader.healthz, name="healthz"),
    path("negotiations/<slug:slug>/", reader.timeline, name="negotiation"),
    path("negotiations/<slug:slug>/rounds/<int:number>/", reader.round_detail, name="round"),
    path("negotiations/<slug:slug>/issues/", reader.board, name="board"),
    path("negotiations/<slug:slug>/issues/<slug:issue>/", reader.issue_detail, name="issue"),
    path("negotiations/<slug:slug>/feed/", RoundsFeed(), name="feed"),
    path("negotiations/<slug:slug>/issues/<slug:issue>/feed/", IssueFeed(), name="issue-feed"),
    path("negotiations/<slug:slug>/export.json", exports.export_json, name="export-json"),
    path("negotiations/<slug:slug>/rounds.csv", exports.rounds_csv, name="rounds-csv"),
    path("negotiations/<slug:slug>/outcomes.csv", exports.outcomes_csv, name="outcomes-csv"),
    path("negotiations/<slug:slug>/positions.csv", exports.positions_csv, name="positions-csv"),
    path("negotiations/<slug:slug>/timelinejs.json", exports.timelinejs, name="timelinejs"),
    path("parties/<slug:slug>/", reader.party_detail, name="party"),
    path("people/<slug:slug>/", reader.person_detail, name="person"),
    path("search/", reader.search, name="search"),
    path("log/", analyst.workspace, name="workspace"),
    path("log/import/", analyst.import_file, name="log-import"),
    path("log/<slug:slug>/rounds/new/", analyst.round_new, name="log-round-new"),
    path("log/<slug:slug>/rounds/<int:number>/", analyst.round_edit, name="log-round"),
    path(
        "log/<slug:slug>/rounds/<int:number>/publish/",
        analyst.round_publish,
        name="log-round-publish",
    ),
    path(
        "log/<slug:slug>/rounds/<int:number>/history/",
        analyst.round_history,
        name="log-round-history",
    ),
    path(
        "log/<slug:slug>/rounds/<int:number>/history/<int:history_id>/restore/",
        analyst.round_restore,
        name="log-round-restore",
    ),
    path(
        "log/<slug:slug>/issues/<slug:issue>/history/",
        analyst.issue_history,
        name="log-issue-history",
    ),
]
