"""The four webhook URLs (the same paths as the Flask example and ``examkit sign``)."""

from __future__ import annotations

from django.urls import path

from examkit_django_example import views

urlpatterns = [
    path("webhooks/itep", views.itep),
    path("webhooks/integrity-advocate", views.integrity_advocate),
    path("webhooks/assessio", views.assessio),
    path("webhooks/testpress", views.testpress),
]
