"""Server-side browser sessions (the staff console's; later the donor portal's)."""
