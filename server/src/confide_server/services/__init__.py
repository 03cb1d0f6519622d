"""Handlers between the REST routers and storage, one module per concept."""
