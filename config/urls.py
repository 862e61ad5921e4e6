from django.contrib import admin
from django.contrib.auth import views as auth
from django.urls import include, path

from negotiations.api import api
from negotiations.forms.accounts import AdminSignInForm
from negotiations.views.accounts import SignInView

admin.site.site_header = "Parley administration"
admin.site.site_title = "Parley admin"
admin.site.login_form = AdminSignInForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        SignInView.as_view(),
        name="login",
    ),
    path("accounts/logout/", auth.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("api/v1/", api.urls),
    path("", include("negotiations.urls")),
]
