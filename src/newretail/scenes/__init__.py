"""Digitised scenes: member timelines across every channel and the traffic simulator."""
