"""The service database's schema migrations (Alembic), run by `service/migrate.py`.

`env.py` runs them on the connection `migrate.py` hands it; `versions/` holds one module per
revision, each naming the one before it. The first, `0001`, is the schema of the releases that
had no migrations: it creates what a database lacks, so a database made by them is adopted as
it is. A change of `service/schema.py` ships with a new revision (docs/service.md, Databases).
"""
