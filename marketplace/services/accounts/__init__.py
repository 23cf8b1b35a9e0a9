"""Accounts: users, organisations and their verification, and the audit log all use-cases write."""
