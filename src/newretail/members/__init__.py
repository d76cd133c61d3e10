"""Members: one person across channels, consent, points and tiers."""
