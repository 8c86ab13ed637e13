"""Drawing charts with Matplotlib (deterministic SVG) and the chart cache; what each chart shows: site.views.charts."""
