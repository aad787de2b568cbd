// Express giving: charge the saved card only when the donor confirms the amount; above the
// step-up amount the ZIP code on file is asked for. The link can also be turned off here.
(function () {
  "use strict";
  var form = document.getElementById("express");
  if (!form) return;
  var key = "express-" + (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()));
  var stepUp = parseInt(form.dataset.stepUp, 10);
  var zipStep = document.getElementById("zip-step");
  function cents() { return Math.round(parseFloat(form.elements.amount.value) * 100); }
  function showZip() {
    var needed = cents() > stepUp;
    zipStep.hidden = !needed;
    form.elements.zip.required = needed;
  }
  form.elements.amount.addEventListener("input", showZip);
  function post(path, body) {
    return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var error = document.getElementById("form-error");
    error.hidden = true;
    var names = ["us_citizen_or_permanent_resident", "own_funds", "not_federal_contractor", "personal_card"];
    var attestations = {};
    names.forEach(function (n) { attestations[n] = form.elements[n].checked; });
    var body = { token: form.dataset.token, page: form.dataset.slug, idempotency_key: key,
      amount_cents: cents(), attestations: attestations };
    if (!zipStep.hidden) body.zip = form.elements.zip.value.trim();
    document.getElementById("confirm").disabled = true;
    post("/api/express/donations", body).then(function (result) {
      if (result.ok) { form.hidden = true; document.getElementById("done").hidden = false; return; }
      // The server's messages are English; a page in another language shows its own.
      var message = (result.body.error || {}).message;
      error.textContent = (!form.dataset.translateErrors && message) || form.dataset.error;
      error.hidden = false;
      document.getElementById("confirm").disabled = false;
    });
  });
  var revoke = document.getElementById("revoke");
  revoke.addEventListener("submit", function (event) {
    event.preventDefault();
    post("/api/express/revoke", { token: revoke.dataset.token }).then(function (result) {
      if (!result.ok) return;
      form.hidden = true;
      revoke.querySelector("button").hidden = true;
      document.getElementById("revoked").hidden = false;
    });
  });
})();
