"""Loading one file in one transaction: stage, validate, merge, rejects, and the file ledger."""
