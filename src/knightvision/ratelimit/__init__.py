"""Moving-window rate limits per (API key, endpoint) and per client address (D5)."""
