"""Reference data in the database: loading countries, taxonomy and grid factors, and FX rates."""
