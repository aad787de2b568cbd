"""Payouts: each Stripe deposit explained by the contributions, refunds, disputes and fees in it.

Plain Python: storage, Stripe and the queue are passed in (see `service.py`,
`storage/payouts.py` and `payments/gateway.py`). docs/payouts.md describes the flow.
"""
