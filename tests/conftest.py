"""Shared test settings: deterministic hypothesis with no deadline (the machine is shared and noisy), and a rule
table that every test leaves as it found it (ops a test registers are gone afterwards)."""

import pytest
from hypothesis import settings

from autograd_lite.rules import scoped_rules

settings.register_profile("autograd_lite", deadline=None, derandomize=True, max_examples=60)
settings.load_profile("autograd_lite")


@pytest.fixture(autouse=True)
def _rule_table_restored():
    """Ops registered inside a test are removed when it ends, so no test sees another's custom ops."""
    with scoped_rules():
        yield
