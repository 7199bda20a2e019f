"""What every stage shares: the errors a user can act on, and the helpers that talk to the
DuckDB warehouse. Imports nothing else of the project."""
