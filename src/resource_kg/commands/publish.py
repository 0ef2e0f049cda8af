"""CLI commands of the publish stage (registered on resource_kg.cli.cli)."""
