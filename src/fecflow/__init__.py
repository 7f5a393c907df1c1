"""fecflow: FEC campaign-finance data into audited PostgreSQL tables and leaning scores."""

__version__ = "0.1.0"
