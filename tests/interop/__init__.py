"""Interop tests against independent server software (the Fedify peer harness beside the repository)."""
