"""The donor portal: sign-in by emailed link, a session of its own, the donor's own giving."""
