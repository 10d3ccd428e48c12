"""Idempotency-Key: a retried submit answered with its first reply, never charged twice."""
