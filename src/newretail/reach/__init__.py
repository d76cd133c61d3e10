"""O2O reach: trigger rules on campaign stages, the decision for each trigger event (with its
reason, holdout by hash), delivery of the offer (Standard Webhooks, in-store screen feed,
member inbox) and the measured lift against the holdout."""
