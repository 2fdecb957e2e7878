from django.db import migrations


def reinstall(apps, schema_editor):
    """The ticket triggers of 0002 again, with -1 lowering only an existing counter row
    (``relaydesk.routing.loads``); SQLite keeps a trigger's old body unless it is dropped."""
    from relaydesk.routing import loads

    loads.uninstall(schema_editor.connection, index=False)
    loads.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0003_cache_stamp"),
    ]

    operations = [migrations.RunPython(reinstall, reinstall)]
