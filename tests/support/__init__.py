"""Real stand-ins for the outside world used by the tests (HTTP server, S3 server)."""
