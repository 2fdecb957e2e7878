"""On PostgreSQL the raw-sample table is UNLOGGED: no write-ahead log for rows that exist only
for a short retention (audit, re-rollup). After a database crash PostgreSQL empties it; the
per-minute rollups, which detection and reports read, stay fully durable. See decision 0008."""

from django.db import migrations


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE monitoring_telemetrysample SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE monitoring_telemetrysample SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]
    operations = [migrations.RunPython(unlogged, logged)]
