"""The rich member of the export tests serves the erasure tests too."""

from tests.privacy.test_export import rich  # noqa: F401  (a fixture)
