// Donation form: choose an amount, send the donor's details, confirm the card with Stripe.js.
(function () {
  "use strict";
  var form = document.getElementById("donate");
  if (!form) return;
  var slug = form.dataset.slug;
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  // One key per page view: a double-click or a retry finds the same donation.
  var idempotencyKey = "web-" + (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
  var amountInput = document.getElementById("amount");
  var submit = document.getElementById("submit");
  var formError = document.getElementById("form-error");

  function dollars(cents) { return "$" + (cents / 100).toFixed(cents % 100 ? 2 : 0); }
  function amountCents() {
    var value = parseFloat(amountInput.value);
    return isFinite(value) ? Math.round(value * 100) : 0;
  }
  function refreshSubmit() {
    var cents = amountCents();
    document.getElementById("submit-amount").textContent = cents ? dollars(cents) : "";
  }
  form.querySelectorAll(".asks button").forEach(function (button) {
    button.addEventListener("click", function () {
      form.querySelectorAll(".asks button").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      button.setAttribute("aria-pressed", "true");
      amountInput.value = (Number(button.dataset.cents) / 100).toFixed(2);
      refreshSubmit();
    });
  });
  amountInput.addEventListener("input", function () {
    form.querySelectorAll(".asks button").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    refreshSubmit();
  });
  refreshSubmit();

  function value(name) { return form.elements[name].value.trim(); }
  function checked(name) { return form.elements[name].checked; }
  function clearErrors() {
    form.querySelectorAll(".error").forEach(function (p) { p.textContent = ""; });
    formError.hidden = true;
  }
  function showErrors(error) {
    var fields = error.fields || {};
    var unplaced = [];
    Object.keys(fields).forEach(function (path) {
      var target = form.querySelector('[data-field="' + path + '"]') ||
        form.querySelector('[data-field="' + path.split(".").slice(0, 1)[0] + '"]');
      if (target) target.textContent = fields[path]; else unplaced.push(fields[path]);
    });
    formError.textContent = error.message + (unplaced.length ? " " + unplaced.join(" ") : "");
    formError.hidden = false;
    var first = form.querySelector(".error:not(:empty)");
    if (first && first.previousElementSibling) first.previousElementSibling.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    submit.disabled = true;
    var payload = {
      amount_cents: amountCents(),
      idempotency_key: idempotencyKey,
      email_opt_in: checked("email_opt_in"),
      donor: {
        first_name: value("first_name"), last_name: value("last_name"), email: value("email"),
        phone: value("phone") || null,
        address: { line1: value("line1"), line2: value("line2") || null, city: value("city"),
                   state: value("state").toUpperCase(), zip: value("zip") },
        employer: value("employer"), occupation: value("occupation")
      },
      attestations: {
        us_citizen_or_permanent_resident: checked("us_citizen_or_permanent_resident"),
        own_funds: checked("own_funds"), not_federal_contractor: checked("not_federal_contractor"),
        personal_card: checked("personal_card")
      }
    };
    var refcode = new URLSearchParams(window.location.search).get("refcode");
    if (refcode) payload.refcode = refcode;
    fetch("/api/pages/" + encodeURIComponent(slug) + "/donations", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) { showErrors(result.body.error || { message: "Something went wrong." }); return null; }
      var donation = result.body;
      return stripe.confirmCardPayment(donation.client_secret, {
        payment_method: {
          card: card,
          billing_details: {
            name: payload.donor.first_name + " " + payload.donor.last_name, email: payload.donor.email,
            address: { line1: payload.donor.address.line1, city: payload.donor.address.city,
                       state: payload.donor.address.state, postal_code: payload.donor.address.zip, country: "US" }
          }
        }
      }).then(function (outcome) {
        if (outcome.error) {
          document.getElementById("card-error").textContent = outcome.error.message;
          return null;
        }
        window.location.assign("/donate/" + encodeURIComponent(slug) + "/thanks?donation_id=" + encodeURIComponent(donation.donation_id));
        return true;
      });
    }).catch(function () {
      showErrors({ message: "We could not reach the server. Check your connection and try again." });
    }).then(function (done) { if (!done) submit.disabled = false; });
  });
})();
