"""Demo data: organisations, users, needs and products, and a simulated broker history."""
