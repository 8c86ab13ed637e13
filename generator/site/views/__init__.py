"""What each page shows: the context (tables, charts, sentences) of the overview, plan, months, features and teams."""
