"""OneID: identifier rules, profiles, merges (union-find), conflicts and unmerge."""
