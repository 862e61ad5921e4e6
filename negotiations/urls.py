from django.urls import path

from .views import reader

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
]
