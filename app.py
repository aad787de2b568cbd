"""Groundswell: the Chalice app. Wiring only; everything else lives in chalicelib/."""

from chalicelib.api.actions import actions
from chalicelib.api.after import after
from chalicelib.api.application import GroundswellApp
from chalicelib.api.committees import committees
from chalicelib.api.console import console
from chalicelib.api.donations import donations
from chalicelib.api.donor_pages import donor_pages
from chalicelib.api.employment import employment
from chalicelib.api.exports import exports
from chalicelib.api.express import express
from chalicelib.api.fec_reports import fec_reports
from chalicelib.api.health import health
from chalicelib.api.hosts import hosts
from chalicelib.api.invitations import invitations
from chalicelib.api.jobs import jobs
from chalicelib.api.middleware import fail_closed, limit_body_size, project_errors, request_context
from chalicelib.api.openapi import openapi
from chalicelib.api.pages import pages
from chalicelib.api.payouts import payouts
from chalicelib.api.portal import portal
from chalicelib.api.recurring import recurring
from chalicelib.api.remedies import remedies
from chalicelib.api.reports import reports
from chalicelib.api.reviews import reviews
from chalicelib.api.supporters import supporters
from chalicelib.api.texts import texts
from chalicelib.api.webhooks import webhooks

app = GroundswellApp(app_name="groundswell")
for blueprint in (health, pages, donations, webhooks, donor_pages, committees, jobs, exports,
                  actions, invitations, hosts, after, recurring, express, reports, fec_reports, employment,
                  payouts, reviews, portal, remedies, texts, supporters, console):
    app.register_blueprint(blueprint)
app.register_blueprint(openapi)
app.register_middleware(fail_closed, "all")
app.register_middleware(limit_body_size, "http")
app.register_middleware(request_context, "all")
app.register_middleware(project_errors, "http")
