"""Unified marketing: offers valid online and offline.

This first step holds the offer engine only (pure Python, no tables): offer templates
(`offers`, `scope`), the basket a till or checkout prices (`basket`) and `price_basket`
(`engine`), which applies the offers in one documented order (docs/marketing.md).
"""
