"""Merging customers from the case page (being built)."""

urlpatterns: list = []
