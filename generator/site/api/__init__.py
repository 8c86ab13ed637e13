"""The machine-readable API: every document of the spec's JSON API, each built once, under the spec's field names."""
