from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("negotiations/<slug:slug>/", views.timeline, name="negotiation"),
]
