"""The merchant operations centre: each store and brand diagnosed from the warehouse — its
metrics per local day (`metrics`), the change between two periods split exactly into
traffic, conversion and order value (`decomposition`), and its peers (`tiers`)."""
