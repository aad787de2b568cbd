"""Giving: donation intake and the exactly-once application of payment events."""
