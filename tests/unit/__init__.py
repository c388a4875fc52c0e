"""The fast tier (``make test-fast``): no model, no index, no browser; runs in seconds."""
