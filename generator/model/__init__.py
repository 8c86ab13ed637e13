"""The spec's figures: billing cycles, usage, per-cycle figures, the tier plan, data quality, per-cycle details."""
