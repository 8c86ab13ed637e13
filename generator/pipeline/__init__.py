"""The build: config, exports, report model, charts, pages, write; and the stamp that says a site is up to date."""
