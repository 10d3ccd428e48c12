"""Signed webhooks (Standard Webhooks) fed by an outbox of events, and the events feed."""
