from django.urls import path

from prolotrack.accounts import admin_views, views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("sign-out-others/", views.sign_out_others, name="sign_out_others"),
    path("second-factor/", views.second_factor, name="second_factor"),
    path("second-factor/enrol/", views.second_factor_enrol, name="second_factor_enrol"),
    # The clinic administrator's page of staff accounts.
    path("users/", admin_views.user_list, name="users"),
    path(
        "users/<int:user_id>/deactivate/",
        admin_views.user_deactivate_view,
        name="user_deactivate",
    ),
    path(
        "users/<int:user_id>/reactivate/",
        admin_views.user_reactivate_view,
        name="user_reactivate",
    ),
    path(
        "users/<int:user_id>/reset-second-factor/",
        admin_views.user_second_factor_reset_view,
        name="user_second_factor_reset",
    ),
]
