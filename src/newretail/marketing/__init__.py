"""Unified marketing: offers valid online and offline, coupons and their ledger, budgets.

The offer engine is pure Python: offer templates (`offers`, `scope`), the basket a till or
checkout prices (`basket`) and `price_basket` (`engine`), which applies the offers in one
documented order (docs/marketing.md). The ledger keeps the coupons (`coupons`) and the budgets
of campaign stages (`budgets`) in the operational store (`models`), changed only by guarded
updates in the caller's transaction.
"""
