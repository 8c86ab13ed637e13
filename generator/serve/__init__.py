"""creditwise serve: file watching, partial rebuilds, the loopback HTTP server and its live-reload script."""
