from django.contrib.auth import views as auth_views
from django.urls import include, path

from prolotrack.accounts import views as account_views
from prolotrack.api.v1 import api as api_v1
from prolotrack.web import views as web_views

urlpatterns = [
    path("", web_views.home, name="home"),
    path("login/", account_views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("prolotrack.accounts.urls")),
    path("health/", web_views.health, name="health"),
    path("patients/", include("prolotrack.patients.urls")),
    path("audit/", include("prolotrack.audit.urls")),
    path("api/v1/", api_v1.urls),
    path("api/tokens/", include("prolotrack.api.urls")),
    path("diary/", include("prolotrack.diary.urls")),
    path("outcomes/", include("prolotrack.outcomes.urls")),
    path("interop/", include("prolotrack.interop.urls")),
    path("", include("prolotrack.treatment.urls")),
]
