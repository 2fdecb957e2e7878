from django.db import migrations, models


def install(apps, schema_editor):
    from relaydesk.routing import stamps

    stamps.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from relaydesk.routing import stamps

    stamps.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_initial"),
        ("routing", "0002_agent_load"),
    ]

    operations = [
        migrations.CreateModel(
            name="CacheStamp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("staff", models.BigIntegerField(default=0)),
                ("schedules", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
