"""News: parsing feed documents, normalising entries, the feed registry and its schedule."""
