"""The HTTP layer: middleware, guards, routers. Services never import from here."""
