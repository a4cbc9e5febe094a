"""Business rules as plain typed functions; they flush, the caller commits once."""
