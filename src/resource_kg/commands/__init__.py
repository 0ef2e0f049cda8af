"""CLI commands beyond build/info, one module per pipeline stage; each registers on `cli`."""
