"""One order ledger for every channel: POS, online, vending, pop-up, cloud shelf."""
