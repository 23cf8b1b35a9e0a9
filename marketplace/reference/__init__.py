"""Reference data (countries, grid and capacity factors, taxonomies) with its provenance."""
