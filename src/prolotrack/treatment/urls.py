from django.urls import path

app_name = "treatment"
urlpatterns: list = []
