"""The credit pool: an append-only ledger with the balance cached on the account (D10)."""
