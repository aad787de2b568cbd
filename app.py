"""Groundswell: the Chalice app. Wiring only; everything else lives in chalicelib/."""

from chalice import Chalice

from chalicelib.api.committees import committees
from chalicelib.api.donations import donations
from chalicelib.api.donor_pages import donor_pages
from chalicelib.api.health import health
from chalicelib.api.jobs import jobs
from chalicelib.api.middleware import limit_body_size
from chalicelib.api.pages import pages
from chalicelib.api.webhooks import webhooks

app = Chalice(app_name="groundswell")
for blueprint in (health, pages, donations, webhooks, donor_pages, committees, jobs):
    app.register_blueprint(blueprint)
app.register_middleware(limit_body_size, "http")
