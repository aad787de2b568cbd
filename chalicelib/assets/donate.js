// Donation form: the countdown, choose an amount, send the donor's details, then pay the
// PaymentIntent intake created through Stripe's Payment Element (a card) or its Express Checkout
// Element (Apple Pay, Google Pay, Link), shown once the FEC fields and attestations are filled in.
(function () {
  "use strict";
  var form = document.getElementById("donate");
  if (!form) return;
  var slug = form.dataset.slug;
  var base = "/api/pages/" + encodeURIComponent(slug);
  var refcode = new URLSearchParams(window.location.search).get("refcode");
  // What the script says, in the page's language (the template's catalog, docs/i18n.md).
  var t = JSON.parse(document.getElementById("donate-messages").textContent);
  var say = function (message, values) {
    return message.replace(/\{(\w+)\}/g, function (all, key) { return key in values ? values[key] : all; });
  };

  // The page is cached at the edge, so it counts its visitor itself: once per visitor, page,
  // experiment and refcode (the server counts each once however often it is told).
  var seen = "gs_seen:" + [slug, form.dataset.experiment, form.dataset.variant, refcode || ""].join(":");
  var remembered = function () { try { return localStorage.getItem(seen); } catch (e) { return null; } };
  if (!remembered()) {
    fetch(base + "/visits", { method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(refcode ? { refcode: refcode } : {})
    }).then(function (r) { if (r.ok) { try { localStorage.setItem(seen, "1"); } catch (e) { /* private mode */ } } })
      .catch(function () { /* a lost count never costs the donor the page */ });
  }

  // The thermometer moves while the page is open (the edge answers from its copy).
  var raised = document.getElementById("raised"), count = document.getElementById("count");
  var meter = document.querySelector(".meter"), bar = meter && meter.firstElementChild;
  setInterval(function () {
    fetch(base + "/progress").then(function (r) { return r.json(); }).then(function (p) {
      raised.textContent = "$" + (p.raised_cents / 100).toLocaleString("en-US", {
        minimumFractionDigits: p.raised_cents % 100 ? 2 : 0, maximumFractionDigits: 2 });
      count.textContent = say(p.contribution_count === 1 ? t.contribution_one : t.contribution_other,
        { count: p.contribution_count });
      meter.setAttribute("aria-valuenow", p.raised_cents);
      bar.style.width = Math.min(100, 100 * p.raised_cents / (p.goal_cents || 1)) + "%";
    }).catch(function () { /* the next poll tries again */ });
  }, 20000);

  // Countdown from the server's seconds_remaining, advanced by elapsed time on a monotonic
  // clock: a wrong clock on the donor's device cannot move the deadline.
  var timer = document.getElementById("countdown");
  if (timer) {
    var total = Number(timer.dataset.seconds), t0 = performance.now();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var show = function (s) {
      var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
      timer.textContent = (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s % 60);
    };
    var tick = function () {
      var elapsed = performance.now() - t0, left = Math.max(0, total - Math.floor(elapsed / 1000));
      show(left);
      if (left > 0) { setTimeout(tick, 1000 - elapsed % 1000); return; }
      // The server decides: closed, or moved on to the page's next deadline.
      fetch(base + "/progress").then(function (r) { return r.json(); }).then(function (page) {
        if (page.status === "open" && page.seconds_remaining > 0) {
          total = page.seconds_remaining; t0 = performance.now();
          document.getElementById("deadline").textContent = say(t.deadline, { when: new Date(page.deadline).toUTCString() });
          tick();
        } else { closePage(); }
      }).catch(function () { setTimeout(tick, 5000); });
    };
    tick();
  }
  function closePage() {
    form.remove();
    if (timer) timer.parentNode.remove();
    var closed = document.getElementById("closed"), notice = closed.firstElementChild;
    closed.hidden = false;
    notice.textContent = notice.textContent;  // announced by its role=status
  }

  // One Elements group in Stripe's deferred mode (no PaymentIntent until intake has run with the
  // donor's validated details): the Payment Element for a card, the Express Checkout Element for
  // a wallet; both confirm the PaymentIntent intake returns. The donor's name and address come
  // from the form above, so the Payment Element asks only for the card.
  // In another site's frame (/embed/{slug}): tell the parent our height and a completed gift,
  // only when the parent is one of the page's embed origins, and only to that origin.
  var parentOrigin = null;
  if (form.dataset.embedOrigins && window.parent !== window) {
    var ancestors = window.location.ancestorOrigins;
    var claimed = ancestors && ancestors.length ? ancestors[0] : (document.referrer ? new URL(document.referrer).origin : "");
    if (form.dataset.embedOrigins.split(" ").indexOf(claimed) >= 0) parentOrigin = claimed;
  }
  function tellParent(message) { if (parentOrigin) window.parent.postMessage(message, parentOrigin); }
  if (parentOrigin) {
    var lastHeight = 0;
    var reportHeight = function () {
      var height = Math.ceil(document.documentElement.scrollHeight);
      if (height !== lastHeight) { lastHeight = height; tellParent({ type: "groundswell:height", height: height }); }
    };
    if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(document.body);
    window.addEventListener("load", reportHeight);
    reportHeight();
  }

  var stripe = Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ mode: "payment", amount: 100, currency: "usd" });
  var payment = elements.create("payment", {
    fields: { billingDetails: { name: "never", email: "never", phone: "never", address: "never" } },
    wallets: { applePay: "never", googlePay: "never" }  // offered by the Express Checkout Element
  });
  payment.mount("#card-element");
  var express = elements.create("expressCheckout", { buttonType: { applePay: "donate", googlePay: "donate" } });
  var expressBox = document.getElementById("express-checkout");
  express.mount("#express-checkout-element");
  // One key per page view: a double-click or a retry finds the same donation.
  // A refusal for an attestation carries a signed note; the next attempt sends it back, so the
  // campaign's staff review a gift whose answers changed (nothing is stored with the refusal).
  var attestationsRefused = null;
  var idempotencyKey = "web-" + (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
  var amountInput = document.getElementById("amount");
  var recurring = document.getElementById("recurring");
  var submit = document.getElementById("submit");
  var formError = document.getElementById("form-error");
  var buttons = form.querySelectorAll(".asks button");

  // Each field error is announced with its field (aria-describedby) and marks it invalid.
  form.querySelectorAll(".error[data-field]").forEach(function (p, i) {
    p.id = p.id || "error-" + i;
    var input = fieldFor(p.dataset.field);
    if (input && input.setAttribute) input.setAttribute("aria-describedby", p.id);
  });
  function fieldFor(path) {
    var name = path === "amount_cents" ? "amount" : path.split(".").pop();
    var found = form.elements[name];
    return found && found.length && !found.tagName ? found[0] : found;
  }

  function dollars(cents) { return "$" + (cents / 100).toFixed(cents % 100 ? 2 : 0); }
  function amountCents() {
    var value = parseFloat(amountInput.value);
    return isFinite(value) ? Math.round(value * 100) : 0;
  }
  function refreshSubmit() {
    var cents = amountCents();
    document.getElementById("submit-amount").textContent = cents ? dollars(cents) + (recurring.checked ? " " + t.monthly : "") : "";
    // What the wallet sheet shows; a saved or monthly card is set up for later charges, as the
    // PaymentIntent intake creates is.
    var later = recurring.checked || checked("save_payment_method");
    elements.update({ amount: cents >= 100 ? cents : 100, setupFutureUsage: later ? "off_session" : null });
    refreshExpress();
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      button.setAttribute("aria-pressed", "true");
      amountInput.value = (Number(button.dataset.cents) / 100).toFixed(2);
      refreshSubmit();
    });
  });
  amountInput.addEventListener("input", function () {
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    refreshSubmit();
  });
  recurring.addEventListener("change", refreshSubmit);
  form.elements.save_payment_method.addEventListener("change", refreshSubmit);

  function value(name) { return form.elements[name].value.trim(); }
  function checked(name) { return form.elements[name].checked; }

  // The wallet button shows only once what the FEC requires is there and every attestation is
  // given (intake checks it all again: this only keeps a wallet sheet from opening for a gift
  // the server would refuse for a missing field).
  var REQUIRED = ["first_name", "last_name", "email", "line1", "city", "state", "zip", "employer", "occupation"];
  var ATTESTATIONS = ["us_citizen_or_permanent_resident", "own_funds", "not_federal_contractor", "personal_card"];
  function readyForWallet() {
    return amountCents() >= 100 &&
      REQUIRED.every(function (name) { return value(name).length > 0; }) &&
      /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value("email")) && /^[A-Za-z]{2}$/.test(value("state")) &&
      /^\d{5}(-?\d{4})?$/.test(value("zip")) &&
      ATTESTATIONS.every(function (name) { return checked(name); });
  }
  function refreshExpress() { expressBox.hidden = !readyForWallet(); }
  form.addEventListener("input", refreshExpress);
  form.addEventListener("change", refreshExpress);
  refreshSubmit();
  function clearErrors() {
    form.querySelectorAll(".error").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    formError.hidden = true;
  }
  function showErrors(error) {
    var fields = error.fields || {};
    var unplaced = [], first = null;
    Object.keys(fields).forEach(function (path) {
      var target = form.querySelector('[data-field="' + path + '"]') ||
        form.querySelector('[data-field="' + path.split(".")[0] + '"]');
      // The server's messages are English; another language shows its own for the field.
      var message = t.translate_errors ? (t.fields[path] || t.fields[path.split(".")[0]] || t.check_fields) : fields[path];
      if (target) target.textContent = message; else unplaced.push(message);
      var input = fieldFor(path);
      if (input && input.setAttribute) { input.setAttribute("aria-invalid", "true"); first = first || input; }
    });
    var summary = t.translate_errors && !error.local ? (Object.keys(fields).length ? t.check_fields : t.something_wrong) : error.message;
    formError.textContent = summary + (unplaced.length ? " " + unplaced.join(" ") : "");
    formError.hidden = false;
    (first || formError).focus();
  }

  // When Stripe (or storage) is at its rate limit the server answers 503 with Retry-After and
  // has written nothing: wait calmly and send the same request (the same idempotency key)
  // again, backing off with jitter, before showing an error.
  var wait = document.getElementById("form-wait");
  var RETRIES = 6;
  function startDonation(payload, attempt) {
    return fetch("/api/pages/" + encodeURIComponent(slug) + "/donations", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (body) {
        var after = Number(response.headers.get("Retry-After"));
        if (response.status === 503 && after > 0 && attempt < RETRIES) {
          wait.hidden = false;
          var delay = Math.min(after * Math.pow(1.5, attempt), 15) * (0.75 + Math.random() / 2);
          return new Promise(function (resolve) { setTimeout(resolve, delay * 1000); })
            .then(function () { return startDonation(payload, attempt + 1); });
        }
        return { ok: response.ok, body: body };
      });
    });
  }

  function buildPayload() {
    var payload = {
      amount_cents: amountCents(),
      idempotency_key: idempotencyKey,
      email_opt_in: checked("email_opt_in"),
      interests: Array.prototype.map.call(form.querySelectorAll('input[name="interests"]:checked'),
                                          function (box) { return box.value; }),
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
    // Sent only when the donor ticked the box themselves: a monthly gift is never a default.
    if (recurring.checked) { payload.recurring = "monthly"; payload.recurring_consent = true; }
    if (checked("save_payment_method")) payload.save_payment_method = true;
    if (form.dataset.variant) payload.variant_id = form.dataset.variant;
    if (refcode) payload.refcode = refcode;
    payload.locale = document.documentElement.lang;  // the language they give in: their receipt's
    if (attestationsRefused) payload.attestations_refused = attestationsRefused;
    return payload;
  }

  // Intake, then the confirmation of its PaymentIntent with what the Element collected (a card,
  // or the wallet's authorization); the donor's own name and address go with it. Stripe then
  // sends the browser to the thank-you page with `payment_intent` and `redirect_status`.
  // Resolves true once on its way there; otherwise shows what went wrong and resolves false.
  function give(payload) {
    return startDonation(payload, 0).then(function (result) {
      wait.hidden = true;
      if (!result.ok) {
        var error = result.body.error || { message: t.something_wrong, local: true };
        if (error.attestations_refused) attestationsRefused = error.attestations_refused;
        showErrors(error);
        return false;
      }
      var donation = result.body, donor = payload.donor;
      var thanks = window.location.origin + "/donate/" + encodeURIComponent(slug) +
        "/thanks?donation_id=" + encodeURIComponent(donation.donation_id) +
        (document.documentElement.lang === "en" ? "" : "&lang=" + encodeURIComponent(document.documentElement.lang));
      return stripe.confirmPayment({
        elements: elements, clientSecret: donation.client_secret,
        // In a frame the gift ends here (no redirect of the frame); the parent is told.
        redirect: parentOrigin ? "if_required" : "always",
        confirmParams: {
          return_url: thanks,
          payment_method_data: { billing_details: {
            name: donor.first_name + " " + donor.last_name, email: donor.email, phone: donor.phone || "",
            address: { line1: donor.address.line1, line2: donor.address.line2 || "", city: donor.address.city,
                       state: donor.address.state, postal_code: donor.address.zip, country: "US" } } }
        }
      }).then(function (outcome) {
        if (outcome.error) {
          document.getElementById("card-error").textContent = outcome.error.message;
          return false;
        }
        if (outcome.paymentIntent) {  // framed: say so here and tell the parent
          var status = outcome.paymentIntent.status === "processing" ? "processing" : "succeeded";
          var done = document.getElementById("embed-done");
          done.textContent = status === "processing" ? t.processing : t.succeeded;
          done.hidden = false;
          tellParent({ type: "groundswell:donation", status: status, donation_id: donation.donation_id,
                       amount_cents: donation.amount_cents });
        }
        return true;
      });
    }).catch(function () {
      wait.hidden = true;
      showErrors({ message: t.unreachable, local: true });
      return false;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    document.getElementById("card-error").textContent = "";
    submit.disabled = true;
    // Stripe wants the Element's own check before any other work: a bad card number is shown
    // beside its field, and nothing is sent.
    elements.submit().then(function (checkedCard) {
      if (checkedCard.error) {
        document.getElementById("card-error").textContent = checkedCard.error.message;
        return false;
      }
      return give(buildPayload());
    }).then(function (done) { if (!done) submit.disabled = false; });
  });

  // A wallet: Stripe asks us to answer the click within a second (we only open the sheet; the
  // form was checked when the button appeared), then the sheet's confirmation runs intake with
  // the same fields and key as the card button would, and confirms that same PaymentIntent.
  express.on("click", function (event) {
    clearErrors();
    if (!readyForWallet()) { event.reject(); refreshExpress(); return; }
    event.resolve();
  });
  express.on("confirm", function (event) {
    submit.disabled = true;
    elements.submit().then(function (checkedWallet) {
      if (checkedWallet.error) { event.paymentFailed({ reason: "fail" }); return false; }
      return give(buildPayload()).then(function (done) {
        if (!done) event.paymentFailed({ reason: "fail" });
        return done;
      });
    }).then(function (done) { if (!done) submit.disabled = false; });
  });
})();
