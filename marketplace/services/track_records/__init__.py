"""Investors' track records: deals entered by hand, imported from CSV or XLSX, or closed on the
platform; their summaries for product pages and search, and their records for the ranker."""
