"""Usage exports into DuckDB: finding and hashing files, the validating SQL, exact-line diagnostics, the events cache."""
