"""Ambtenaar Online: the node itself (settings, database, domain model, client API, CLI)."""

__version__ = "0.1.0"
SOFTWARE_NAME = "Ambtenaar Online"
