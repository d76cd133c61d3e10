"""The traffic simulator: shoppers driven through an organisation's scenes over the public
HTTP API (collector, orders), for demos, benchmarks and tests."""
