"""Stock per location: levels, reservations with expiry, the movement ledger."""
