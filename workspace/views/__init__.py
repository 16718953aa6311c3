"""Workspace views: thin wrappers that check access, call a service or a query, and render.

Every view is wrapped in one of the ``access`` decorators; the access-matrix test
(``tests/workspace/test_access_matrix.py``) fails for a route it has no rule for.
"""
