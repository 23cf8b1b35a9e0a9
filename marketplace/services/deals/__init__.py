"""Deals: brokers' decisions, introductions and the pipeline to close, conversations, documents."""
