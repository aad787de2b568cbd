"""Small pages that use the stand-in's Stripe.js the way Stripe's samples do, served from their own
origin (a second local port) so every call to the stand-in is a real cross-origin request.

Each page takes its publishable key and client secret from the query string; ``{STANDIN}`` is the
stand-in's base URL. Pages record what Stripe.js told them in ``window.seen`` (events) and
``window.outcome`` (a resolved confirm), and show errors in ``#error``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title><script src="{STANDIN}/v3/"></script></head>
<body><main><h1>{title}</h1>
"""
COMMON = """
var query = new URLSearchParams(location.search);
var stripe = Stripe(query.get("pk"));
window.seen = [];
function record(name) { return function (event) { window.seen.push([name, event]); }; }
function show(error) { document.getElementById("error").textContent = error.message; }
"""

PAY = HEAD + """
<form id="payment-form">
  <div id="payment-element"></div>
  <button id="submit" type="submit">Give now</button>
  <p id="error" role="alert"></p>
</form>
</main><script>
""" + COMMON + """
var options = {clientSecret: query.get("cs"), appearance: {theme: "stripe"}, locale: "en"};
var elements = stripe.elements(options);
var fields = query.get("fields") === "never" ? {billingDetails: {address: "never"}} : undefined;
var payment = elements.create("payment", {fields: fields, layout: "tabs"});
payment.on("ready", record("ready")).on("change", record("change"));
payment.mount("#payment-element");
var confirm = query.get("kind") === "setup" ? "confirmSetup" : "confirmPayment";
document.getElementById("payment-form").addEventListener("submit", function (e) {
  e.preventDefault();
  var params = {return_url: location.origin + "/return.html?pk=" + query.get("pk")};
  if (fields) {
    params.payment_method_data = {billing_details: {address: {country: "US", postal_code: "53703"}}};
  }
  var call = {elements: elements, confirmParams: params};
  if (query.get("redirect")) { call.redirect = query.get("redirect"); }
  stripe[confirm](call).then(function (outcome) {
    window.outcome = outcome;
    if (outcome.error) { show(outcome.error); }
  });
});
</script></body></html>
"""

DEFERRED = HEAD + """
<form id="payment-form">
  <div id="payment-element"></div>
  <button id="submit" type="submit">Give now</button>
  <p id="error" role="alert"></p>
</form>
</main><script>
""" + COMMON + """
var elements = stripe.elements({mode: "payment", amount: 1000, currency: "usd"});
elements.create("payment").mount("#payment-element");
window.skipSubmit = false;
document.getElementById("payment-form").addEventListener("submit", function (e) {
  e.preventDefault();
  elements.update({amount: 2700}).then(function () {
    return window.skipSubmit ? {} : elements.submit();
  }).then(function (submitted) {
    if (submitted.error) { show(submitted.error); return; }
    // The page would create its PaymentIntent on the server here; the test made it already.
    return stripe.confirmPayment({
      elements: elements, clientSecret: query.get("cs"),
      confirmParams: {return_url: location.origin + "/return.html?pk=" + query.get("pk")}
    });
  }).catch(function (err) { window.rejected = err.name + ": " + err.message; show(err); });
});
</script></body></html>
"""

EXPRESS = HEAD + """
<div id="express-checkout-element"></div>
<p id="error" role="alert"></p>
</main><script>
""" + COMMON + """
var elements = stripe.elements({clientSecret: query.get("cs")});
var express = elements.create("expressCheckout", {buttonType: {applePay: "donate"}});
express.on("ready", record("ready")).on("cancel", record("cancel"));
express.on("click", function (event) {
  window.seen.push(["click", {expressPaymentType: event.expressPaymentType}]);
  if (query.get("reject")) { event.reject(); return; }
  event.resolve({emailRequired: true});
});
express.on("confirm", function (event) {
  window.seen.push(["confirm", {expressPaymentType: event.expressPaymentType,
                                billingDetails: event.billingDetails}]);
  elements.submit().then(function (submitted) {
    if (submitted.error) { event.paymentFailed(); show(submitted.error); return; }
    return stripe.confirmPayment({
      elements: elements, confirmParams: {return_url: location.origin + "/return.html?pk=" + query.get("pk")},
      redirect: query.get("redirect") || "always"
    }).then(function (outcome) {
      window.outcome = outcome;
      if (outcome.error) { event.paymentFailed({reason: "fail"}); show(outcome.error); }
    });
  });
});
express.mount("#express-checkout-element");
</script></body></html>
"""

RETURN = HEAD + """
<p id="status" role="status"></p>
</main><script>
""" + COMMON + """
var pi = query.get("payment_intent_client_secret"), seti = query.get("setup_intent_client_secret");
var found = pi ? stripe.retrievePaymentIntent(pi) : stripe.retrieveSetupIntent(seti);
found.then(function (outcome) {
  var intent = outcome.paymentIntent || outcome.setupIntent;
  document.getElementById("status").textContent = outcome.error ? outcome.error.message
    : intent.id + " " + intent.status;
});
</script></body></html>
"""

PAGES = {
    "/pay.html": ("Give to the campaign", PAY),
    "/deferred.html": ("Give to the campaign", DEFERRED),
    "/express.html": ("Give with a wallet", EXPRESS),
    "/return.html": ("Thank you", RETURN),
}


class PageServer:
    """Serves `PAGES` on a free local port, with the stand-in's URL filled in."""

    def __init__(self, standin_url: str) -> None:
        pages = {
            path: body.replace("{title}", title).replace("{STANDIN}", standin_url).encode()
            for path, (title, body) in PAGES.items()
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(urlparse(self.path).path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
