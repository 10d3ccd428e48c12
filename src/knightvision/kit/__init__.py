"""Domain-free helpers: ids, time, hashing, backoff. Imports nothing else of ours."""
