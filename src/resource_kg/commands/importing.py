"""CLI commands of the importing stage (registered on resource_kg.cli.cli)."""
