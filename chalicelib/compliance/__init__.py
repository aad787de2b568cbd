"""Compliance: committees' legal limits, itemization, donor identity and FEC text rules."""
