"""CLI commands, one module per pipeline stage; `common` holds the click group and what they share."""
