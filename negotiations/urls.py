from django.urls import path

from .views import analyst, reader

urlpatterns = [
    path("", reader.home, name="home"),
    path("healthz", reader.healthz, name="healthz"),
    path("negotiations/<slug:slug>/", reader.timeline, name="negotiation"),
    path("negotiations/<slug:slug>/rounds/<int:number>/", reader.round_detail, name="round"),
    path("negotiations/<slug:slug>/issues/", reader.board, name="board"),
    path("negotiations/<slug:slug>/issues/<slug:issue>/", reader.issue_detail, name="issue"),
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
