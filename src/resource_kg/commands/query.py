"""CLI commands of the query stage (registered on resource_kg.cli.cli)."""
