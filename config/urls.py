from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Parley administration"
admin.site.site_title = "Parley admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("negotiations.urls")),
]
