"""Sign-in forms whose username cannot outgrow the columns it is written to.

Django's AuthenticationForm sets the username field's ``max_length`` after the
field is built, so the limit reaches the HTML attribute but not the validators:
a longer name still goes to ``authenticate()``, and django-axes then writes it
to its 255-character ``username`` column, which PostgreSQL refuses. Here the
limit is a validator too, so such a name is a form error and nothing is written.
"""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class SignInForm(AuthenticationForm):
    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class AdminSignInForm(AdminAuthenticationForm, SignInForm):
    pass
