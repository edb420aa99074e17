"""shopfront: a tiny web shop backend."""
