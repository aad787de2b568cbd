// Express giving: charge the saved card only when the donor confirms the amount.
(function () {
  "use strict";
  var form = document.getElementById("express");
  if (!form) return;
  var key = "express-" + (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()));
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var error = document.getElementById("form-error");
    error.hidden = true;
    var names = ["us_citizen_or_permanent_resident", "own_funds", "not_federal_contractor", "personal_card"];
    var attestations = {};
    names.forEach(function (n) { attestations[n] = form.elements[n].checked; });
    document.getElementById("confirm").disabled = true;
    fetch("/api/express/donations", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: form.dataset.token, page: form.dataset.slug, idempotency_key: key,
        amount_cents: Math.round(parseFloat(form.elements.amount.value) * 100), attestations: attestations })
    }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (result) {
        if (result.ok) { form.hidden = true; document.getElementById("done").hidden = false; return; }
        error.textContent = (result.body.error || {}).message || "Something went wrong.";
        error.hidden = false;
        document.getElementById("confirm").disabled = false;
      });
  });
})();
