"""Search: faceted need and product search, its in-process facet index, saved searches, alerts."""
