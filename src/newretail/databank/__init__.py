"""The Data Bank: AIPL consumer assets per brand, their flows and FAST brand health."""
