"""The `flask` command groups, one module each; the factory registers them like the blueprints."""
