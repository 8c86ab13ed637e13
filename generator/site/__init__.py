"""The static site from the report model: pages and views, Jinja2, guides, JSON API, CSV, feeds, the writer."""
