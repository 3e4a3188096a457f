"""Markets: the instrument universe and its baskets."""
