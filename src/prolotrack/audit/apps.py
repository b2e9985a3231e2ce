from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "prolotrack.audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # prolotrack uses no signals for its own control flow. Sign-in, sign-out and failed
        # sign-in happen inside Django's auth views and `authenticate()`, and Django's own auth
        # signals are the hooks it offers for exactly this; the receivers only record.
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from prolotrack.audit import auth_events

        user_logged_in.connect(auth_events.record_login, dispatch_uid="audit_login")
        user_logged_out.connect(auth_events.record_logout, dispatch_uid="audit_logout")
        user_login_failed.connect(
            auth_events.record_login_failed, dispatch_uid="audit_login_failed"
        )
