"""Database plumbing: pool, embedded PostgreSQL, migrations. No table is named here."""
