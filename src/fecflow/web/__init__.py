"""The score explorer (``fecflow serve``): a read-only web app beside the CLI (see :mod:`.app`)."""
