"""Database layer: embedded server, connections, models, migrations, partitions."""
