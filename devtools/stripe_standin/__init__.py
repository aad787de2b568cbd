"""Offline stand-in for the parts of the Stripe API (and Stripe.js) Groundswell uses.

Run ``python -m devtools.stripe_standin --port 12111`` or, in tests, ``serve(port=0)``.
"""

from .app import RunningStandin, create_app, serve

__all__ = ["RunningStandin", "create_app", "serve"]
