"""The project's URLs and the floor's in one URLconf, for tests/test_bench.py: its live server answers both."""

from crm.urls import urlpatterns as project
from tests.bench.floor import urlpatterns as floor

urlpatterns = [*floor, *project]
