"""The treasurer's reports to the FEC around the filing core: requested over HTTP, built off the
request path from the ledger, reviewed, finalized (frozen), downloaded and amended.

`chalicelib.filing` decides what a report says; this package feeds it (`committee` turns our
committee into the one the forms show, `ledger` our donations, movements and Stripe's fees into
its transactions) and keeps each report's state (`service`). See docs/reports.md.
"""
