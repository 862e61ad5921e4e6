"""Signing in: Django's view, with the username checked against its column and only
same-site paths followed after sign-in."""

from django.contrib.auth.views import LoginView

from ..forms.accounts import SignInForm


class SignInView(LoginView):
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_redirect_url(self, request=None) -> str:
        """`next` if it is a path on this site; a relative one ("anna") would resolve
        against the sign-in page's address and lead nowhere."""
        url = super().get_redirect_url(request)
        return url if url.startswith("/") else ""
