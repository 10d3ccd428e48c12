"""Database: engine, schema, migrations."""
