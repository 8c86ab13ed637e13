"""Files to start from: the deterministic demo exports and creditwise new."""
