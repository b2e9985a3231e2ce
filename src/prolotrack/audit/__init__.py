"""The audit trail: who saw or changed what, when, from where; append-only and hash-chained."""
