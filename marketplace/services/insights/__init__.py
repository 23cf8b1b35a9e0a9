"""Insights: read-only figures across domains for the home pages and the landing page."""
