"""CLI commands of the validate stage (registered on resource_kg.cli.cli)."""
