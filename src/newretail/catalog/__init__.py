"""Products, SKUs, prices per channel with store overrides, availability."""
