"""`python -m resource_kg` runs the `rkg` command."""

from resource_kg.cli import main

main()
