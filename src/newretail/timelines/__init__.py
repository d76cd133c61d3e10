"""Member timelines: one member's events from every channel, online and offline."""
