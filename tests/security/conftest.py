"""The security suite's fixtures: the two real nodes of tests/federation (gemeente, burger) for scenarios that
cross servers."""

from tests.federation.conftest import burger, gemeente  # noqa: F401  (fixtures, shared with tests/federation)
