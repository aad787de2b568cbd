/*
 * Stripe.js stand-in served by devtools.stripe_standin (GET /v3/), talking to the stand-in that
 * served it. What it implements, in Stripe's own shapes (see the stand-in's README):
 *   Stripe(pk).elements({clientSecret} | {mode, amount, currency, ...}) with the Elements
 *   "payment" (a real, labelled card form), "expressCheckout" (a "Pay with test wallet" button that
 *   acts as Apple Pay) and the legacy "card"; elements.submit/update/fetchUpdates/getElement;
 *   stripe.confirmPayment, confirmSetup, confirmCardPayment, confirmCardSetup,
 *   retrievePaymentIntent, retrieveSetupIntent.
 * Test hook (the stand-in's only addition): Stripe.standin.wallet = {card, billingDetails, cancel}
 * chooses the card the test wallet pays with, the details it shares, or a dismissed sheet.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  // API calls go back to whichever stand-in served this script, not to the page's origin.
  var API_ORIGIN = script && script.src ? new URL(script.src, window.location.href).origin : window.location.origin;
  var uid = 0;

  function IntegrationError(message) {
    var err = new Error(message);
    err.name = "IntegrationError";
    return err;
  }

  function digits(value) {
    return String(value || "").replace(/\D/g, "");
  }

  function luhn(number) {
    var sum = 0;
    for (var i = 0; i < number.length; i++) {
      var d = Number(number.charAt(number.length - 1 - i));
      if (i % 2) { d = d * 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function brandOf(number) {
    if (/^4/.test(number)) { return "visa"; }
    if (/^(5[1-5]|2[2-7])/.test(number)) { return "mastercard"; }
    if (/^3[47]/.test(number)) { return "amex"; }
    if (/^(6011|65)/.test(number)) { return "discover"; }
    return "unknown";
  }

  function parseExpiry(value) {
    var d = digits(value);
    if (d.length < 4) { return null; }
    var year = Number(d.slice(2));
    return { month: Number(d.slice(0, 2)), year: year < 100 ? 2000 + year : year };
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  // Deep merge of plain objects (b wins); arrays and scalars are replaced.
  function merge(a, b) {
    var out = {};
    [a, b].forEach(function (source) {
      if (!isObject(source)) { return; }
      Object.keys(source).forEach(function (key) {
        out[key] = isObject(out[key]) && isObject(source[key]) ? merge(out[key], source[key]) : source[key];
      });
    });
    return out;
  }

  // Stripe's form encoding: {a: {b: 1}} -> a[b]=1, arrays -> a[0]=x.
  function encode(value, prefix, out) {
    if (value === undefined || value === null) { return out; }
    if (typeof value === "object") {
      Object.keys(value).forEach(function (key) {
        encode(value[key], prefix ? prefix + "[" + key + "]" : key, out);
      });
    } else {
      out.append(prefix, String(value));
    }
    return out;
  }

  function reportIncomplete(strict, value) {
    return strict === 2 || (strict === 1 && value.length > 0);
  }

  function validationError(code, message, field) {
    var error = { type: "validation_error", code: code, message: message };
    if (field) { error.field = field; }
    return error;
  }

  /* Validate card fields. strict: 0 while typing, 1 on blur (incomplete non-empty fields), 2 on submit (all). */
  function checkCard(values, strict) {
    var number = digits(values.number);
    var brand = brandOf(number);
    var numberLength = brand === "amex" ? 15 : 16;
    var cvcLength = brand === "amex" ? 4 : 3;
    var expiry = parseExpiry(values.expiry);
    var now = new Date();
    var cvc = digits(values.cvc);
    var error = null;
    if (number.length >= numberLength && !luhn(number)) {
      error = validationError("incorrect_number", "Your card number is invalid.", "number");
    } else if (expiry && (expiry.month < 1 || expiry.month > 12)) {
      error = validationError("invalid_expiry_month", "Your card's expiration date is invalid.", "expiry");
    } else if (expiry && expiry.year < now.getFullYear()) {
      error = validationError("invalid_expiry_year_past", "Your card's expiration year is in the past.", "expiry");
    } else if (expiry && expiry.year === now.getFullYear() && expiry.month < now.getMonth() + 1) {
      error = validationError("invalid_expiry_month_past", "Your card's expiration date is in the past.", "expiry");
    } else if (reportIncomplete(strict, number) && number.length < numberLength) {
      error = validationError("incomplete_number", "Your card number is incomplete.", "number");
    } else if (reportIncomplete(strict, digits(values.expiry)) && !expiry) {
      error = validationError("incomplete_expiry", "Your card's expiration date is incomplete.", "expiry");
    } else if (reportIncomplete(strict, cvc) && cvc.length < cvcLength) {
      error = validationError("incomplete_cvc", "Your card's security code is incomplete.", "cvc");
    }
    var complete = !error && number.length >= numberLength && !!expiry && cvc.length >= cvcLength;
    return { complete: complete, error: error, brand: brand, empty: !number && !values.expiry && !cvc };
  }

  /* The API, answered as {ok, status, body}; a network failure is a Stripe-shaped api_connection_error. */
  function api(method, path, params) {
    var body = encode(params, "", new URLSearchParams());
    var url = API_ORIGIN + path + (method === "GET" ? "?" + body.toString() : "");
    var init = { method: method };
    if (method !== "GET") {
      // A form body with no custom headers is a "simple" CORS request: no preflight needed.
      init.headers = { "Content-Type": "application/x-www-form-urlencoded" };
      init.body = body.toString();
    }
    return fetch(url, init).then(function (response) {
      return response.json().then(function (json) {
        return { ok: response.ok, status: response.status, body: json };
      });
    }, function (err) {
      return { ok: false, status: 0, body: { error: { type: "api_connection_error", message: "Could not reach the Stripe stand-in at " + API_ORIGIN + ": " + err } } };
    });
  }

  function result(key, answer) {
    if (answer.ok) { var out = {}; out[key] = answer.body; return out; }
    return { error: answer.body.error || { type: "api_error", message: "Unexpected response" } };
  }

  function parseSecret(clientSecret, method) {
    var match = /^((pi|seti)_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/.exec(String(clientSecret || ""));
    if (!match) {
      throw IntegrationError("Invalid value for " + method + ": clientSecret should be a client secret of the form ${id}_secret_${secret}. You specified: " + clientSecret + ".");
    }
    return { id: match[1], kind: match[2] === "pi" ? "payment_intent" : "setup_intent", secret: clientSecret };
  }

  /* ------------------------------------------------------------------ events */

  function Emitter() {}

  Emitter.prototype.on = function (event, handler) {
    this._handlers = this._handlers || {};
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };

  Emitter.prototype.once = function (event, handler) {
    var self = this;
    function wrapped(payload) { self.off(event, wrapped); handler(payload); }
    return this.on(event, wrapped);
  };

  Emitter.prototype.off = function (event, handler) {
    this._handlers = this._handlers || {};
    this._handlers[event] = (this._handlers[event] || []).filter(function (h) { return handler && h !== handler; });
    return this;
  };

  Emitter.prototype._has = function (event) {
    return !!(this._handlers && this._handlers[event] && this._handlers[event].length);
  };

  Emitter.prototype._emit = function (event, payload) {
    ((this._handlers || {})[event] || []).slice().forEach(function (handler) { handler(payload); });
  };

  function inherit(Child) {
    Child.prototype = Object.create(Emitter.prototype);
    Child.prototype.constructor = Child;
  }

  function mountPoint(target) {
    var container = typeof target === "string" ? document.querySelector(target) : target;
    if (!container || !container.appendChild) {
      throw IntegrationError("The selector you specified (" + target + ") applies to no DOM elements that are currently on the page.");
    }
    return container;
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  /* ------------------------------------------------------- legacy card Element */

  var FIELDS = [
    { key: "number", id: "cardnumber", label: "Card number", autocomplete: "cc-number", placeholder: "1234 1234 1234 1234", maxLength: 23 },
    { key: "expiry", id: "exp-date", label: "Expiry (MM / YY)", autocomplete: "cc-exp", placeholder: "MM / YY", maxLength: 7 },
    { key: "cvc", id: "cvc", label: "CVC", autocomplete: "cc-csc", placeholder: "CVC", maxLength: 4 }
  ];

  function CardElement(options) {
    this.type = "card";
    this.options = options || {};
    this._handlers = {};
    this._inputs = {};
    this._root = null;
  }
  inherit(CardElement);

  CardElement.prototype.mount = function (target) {
    var container = mountPoint(target);
    if (this._root) { this.unmount(); }
    var self = this;
    var root = document.createElement("div");
    root.className = "StripeElement StripeElement--empty";
    FIELDS.forEach(function (field) {
      var wrapper = document.createElement("div");
      wrapper.className = "StripeElement-field";
      var label = document.createElement("label");
      label.htmlFor = field.id;
      label.textContent = field.label;
      var input = document.createElement("input");
      input.id = field.id;
      input.name = field.id;
      input.type = "text";
      input.inputMode = "numeric";
      input.setAttribute("inputmode", "numeric");
      input.autocomplete = field.autocomplete;
      input.setAttribute("autocomplete", field.autocomplete);
      input.placeholder = field.placeholder;
      input.maxLength = field.maxLength;
      input.setAttribute("aria-invalid", "false");
      input.addEventListener("input", function () { self._changed(0); });
      input.addEventListener("blur", function () { self._changed(1); self._emit("blur", {}); });
      input.addEventListener("focus", function () { self._emit("focus", {}); });
      wrapper.appendChild(label);
      wrapper.appendChild(input);
      root.appendChild(wrapper);
      self._inputs[field.key] = input;
    });
    container.appendChild(root);
    this._root = root;
    this._emit("ready", { elementType: "card" });
    return this;
  };

  CardElement.prototype._values = function () {
    var inputs = this._inputs;
    return {
      number: inputs.number ? inputs.number.value : "",
      expiry: inputs.expiry ? inputs.expiry.value : "",
      cvc: inputs.cvc ? inputs.cvc.value : ""
    };
  };

  CardElement.prototype._changed = function (strict) {
    var state = checkCard(this._values(), strict);
    var inputs = this._inputs;
    var code = state.error ? state.error.code : "";
    inputs.number.setAttribute("aria-invalid", String(/number/.test(code)));
    inputs.expiry.setAttribute("aria-invalid", String(/expiry/.test(code)));
    inputs.cvc.setAttribute("aria-invalid", String(/cvc/.test(code)));
    this._root.className = "StripeElement" + (state.empty ? " StripeElement--empty" : "") +
      (state.complete ? " StripeElement--complete" : "") + (state.error ? " StripeElement--invalid" : "");
    var error = state.error ? { type: state.error.type, code: state.error.code, message: state.error.message } : undefined;
    this._emit("change", {
      elementType: "card", empty: state.empty, complete: state.complete,
      error: error, brand: state.brand, value: { postalCode: "" }
    });
  };

  CardElement.prototype.focus = function () {
    if (this._inputs.number) { this._inputs.number.focus(); }
  };

  CardElement.prototype.blur = function () {
    if (document.activeElement && this._root && this._root.contains(document.activeElement)) { document.activeElement.blur(); }
  };

  CardElement.prototype.clear = function () {
    var inputs = this._inputs;
    Object.keys(inputs).forEach(function (key) { inputs[key].value = ""; });
    if (this._root) { this._changed(0); }
  };

  CardElement.prototype.update = function (options) {
    for (var key in options) { if (Object.prototype.hasOwnProperty.call(options, key)) { this.options[key] = options[key]; } }
  };

  CardElement.prototype.unmount = function () {
    if (this._root && this._root.parentNode) { this._root.parentNode.removeChild(this._root); }
    this._root = null;
    this._inputs = {};
  };

  CardElement.prototype.destroy = function () {
    this.unmount();
    this._handlers = {};
    this._destroyed = true;
  };

  /* ------------------------------------------------------------ Payment Element */

  var COUNTRIES = [
    ["US", "United States"], ["CA", "Canada"], ["MX", "Mexico"], ["BR", "Brazil"], ["AR", "Argentina"],
    ["GB", "United Kingdom"], ["IE", "Ireland"], ["FR", "France"], ["DE", "Germany"], ["ES", "Spain"],
    ["IT", "Italy"], ["NL", "Netherlands"], ["SE", "Sweden"], ["NO", "Norway"], ["CH", "Switzerland"],
    ["AU", "Australia"], ["NZ", "New Zealand"], ["JP", "Japan"], ["IN", "India"], ["SG", "Singapore"]
  ];
  var PAYMENT_FIELDS = [
    { key: "number", name: "cardnumber", label: "Card number", autocomplete: "cc-number", placeholder: "1234 1234 1234 1234", maxLength: 23 },
    { key: "expiry", name: "exp-date", label: "Expiration date (MM / YY)", autocomplete: "cc-exp", placeholder: "MM / YY", maxLength: 7 },
    { key: "cvc", name: "cvc", label: "Security code (CVC)", autocomplete: "cc-csc", placeholder: "CVC", maxLength: 4 },
    { key: "country", name: "country", label: "Country", autocomplete: "country", select: true },
    { key: "postal", name: "postal", label: "ZIP / postal code", autocomplete: "postal-code", placeholder: "12345", maxLength: 10 }
  ];

  // "never" opt-outs from the Payment Element's fields option, as paths into billing_details.
  function hiddenFields(fields) {
    var billing = isObject(fields) ? fields.billingDetails : undefined;
    var address = isObject(billing) ? billing.address : billing;
    var never = function (value) { return value === "never"; };
    return {
      country: never(billing) || never(address) || (isObject(address) && never(address.country)),
      postal: never(billing) || never(address) || (isObject(address) && never(address.postalCode))
    };
  }

  function PaymentElement(group, options) {
    this.type = "payment";
    this._group = group;
    this.options = options || {};
    this._handlers = {};
    this._inputs = {};
    this._errors = {};
    this._root = null;
  }
  inherit(PaymentElement);

  PaymentElement.prototype.mount = function (target) {
    var container = mountPoint(target);
    if (this._root) { this.unmount(); }
    var self = this;
    var prefix = "stripe-standin-" + (++uid) + "-";
    var defaults = ((this.options.defaultValues || {}).billingDetails || {}).address || {};
    var root = element("fieldset", { "class": "StripeElement StripePaymentElement StripeElement--empty" });
    root.appendChild(element("legend", {}, "Card"));
    var hidden = hiddenFields(this.options.fields);
    PAYMENT_FIELDS.forEach(function (field) {
      var wrapper = element("div", { "class": "StripeElement-field StripeElement-field--" + field.key });
      var id = prefix + field.name;
      var label = element("label", { "for": id }, field.label);
      var input;
      if (field.select) {
        input = element("select", { id: id, name: field.name, autocomplete: field.autocomplete });
        COUNTRIES.forEach(function (pair) {
          var option = element("option", { value: pair[0] }, pair[1]);
          input.appendChild(option);
        });
        input.value = defaults.country || "US";
        input.addEventListener("change", function () { self._changed(0); });
      } else {
        input = element("input", {
          id: id, name: field.name, type: "text", autocomplete: field.autocomplete,
          placeholder: field.placeholder, maxlength: String(field.maxLength),
          inputmode: field.key === "postal" ? "text" : "numeric"
        });
        if (field.key === "postal" && defaults.postal_code) { input.value = defaults.postal_code; }
        input.addEventListener("input", function () { self._changed(0); });
      }
      // Room for the message is kept, so a message appearing on blur never moves what is below it.
      var error = element("p", { id: id + "-error", "class": "StripeElement-error", "aria-live": "polite", style: "min-height: 1.25em; margin: 0.125em 0 0.5em" });
      input.setAttribute("aria-invalid", "false");
      input.setAttribute("aria-describedby", error.id);
      if (self.options.readOnly) { input.disabled = true; }
      input.addEventListener("blur", function () { self._changed(1); self._emit("blur", { elementType: "payment" }); });
      input.addEventListener("focus", function () { self._emit("focus", { elementType: "payment" }); });
      input.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { self._emit("escape", { elementType: "payment" }); }
      });
      wrapper.appendChild(label);
      wrapper.appendChild(input);
      wrapper.appendChild(error);
      if (hidden[field.key]) { wrapper.hidden = true; }
      root.appendChild(wrapper);
      self._inputs[field.key] = input;
      self._errors[field.key] = error;
    });
    container.appendChild(root);
    this._root = root;
    // Stripe's Elements load in iframes: "ready" always comes after mount returns.
    setTimeout(function () { if (self._root === root) { self._emit("ready", { elementType: "payment" }); } }, 0);
    return this;
  };

  PaymentElement.prototype._values = function () {
    var inputs = this._inputs;
    var hidden = hiddenFields(this.options.fields);
    return {
      number: inputs.number.value, expiry: inputs.expiry.value, cvc: inputs.cvc.value,
      country: hidden.country ? null : inputs.country.value,
      postal: hidden.postal ? null : inputs.postal.value.trim()
    };
  };

  PaymentElement.prototype._check = function (strict) {
    var values = this._values();
    var state = checkCard(values, strict);
    if (!state.error && values.postal !== null) {
      var postal = values.postal;
      var us = values.country === "US" || values.country === null;
      if (us && postal && !/^\d{5}(-?\d{4})?$/.test(postal)) {
        state.error = validationError(postal.length < 5 ? "incomplete_zip" : "invalid_zip", postal.length < 5 ? "Your ZIP is incomplete." : "Your ZIP is invalid.", "postal");
      } else if (!postal && reportIncomplete(strict, postal) && (us || values.country === "CA" || values.country === "GB")) {
        state.error = validationError(us ? "incomplete_zip" : "incomplete_postal_code", us ? "Your ZIP is incomplete." : "Your postal code is incomplete.", "postal");
      }
      state.complete = state.complete && !state.error && (!!postal || !(us || values.country === "CA" || values.country === "GB"));
    }
    state.empty = state.empty && !(values.postal && values.postal !== (((this.options.defaultValues || {}).billingDetails || {}).address || {}).postal_code);
    return state;
  };

  /* Re-validate, show the error beside its field (strict > 0) and emit "change". */
  PaymentElement.prototype._changed = function (strict) {
    var state = this._check(strict);
    var self = this;
    Object.keys(this._inputs).forEach(function (key) {
      var mine = !!state.error && state.error.field === key;
      self._inputs[key].setAttribute("aria-invalid", String(mine));
      if (strict > 0 || !mine) { self._errors[key].textContent = mine ? state.error.message : ""; }
    });
    this._root.className = "StripeElement StripePaymentElement" + (state.empty ? " StripeElement--empty" : "") +
      (state.complete ? " StripeElement--complete" : "") + (state.error ? " StripeElement--invalid" : "");
    this._emit("change", {
      elementType: "payment", empty: state.empty, complete: state.complete, collapsed: false,
      value: { type: "card" }
    });
    return state;
  };

  /* Submit-time validation: errors shown, the first invalid field focused. */
  PaymentElement.prototype._validate = function () {
    var state = this._changed(2);
    if (state.error) {
      this._inputs[state.error.field].focus();
      return { type: state.error.type, code: state.error.code, message: state.error.message };
    }
    return null;
  };

  PaymentElement.prototype._paymentMethodData = function (extra) {
    var values = this._values();
    var expiry = parseExpiry(values.expiry);
    var address = {};
    if (values.country !== null) { address.country = values.country; }
    if (values.postal !== null && values.postal) { address.postal_code = values.postal; }
    var data = {
      type: "card",
      card: { number: digits(values.number), exp_month: expiry.month, exp_year: expiry.year, cvc: digits(values.cvc) },
      billing_details: { address: address }
    };
    var merged = merge(data, extra);
    var hidden = hiddenFields(this.options.fields);
    var given = ((merged.billing_details || {}).address) || {};
    [["country", "country", "country"], ["postal", "postal_code", "postalCode"]].forEach(function (names) {
      if (hidden[names[0]] && !given[names[1]]) {
        throw IntegrationError("You specified \"never\" for fields.billing_details.address." + names[2] + " when creating the payment Element, but did not pass confirmParams.payment_method_data.billing_details.address." + names[1] + " when calling stripe.confirmPayment(). If you opt out of collecting data via the payment Element using the fields option, the data must be passed in when calling stripe.confirmPayment().");
      }
    });
    return merged;
  };

  PaymentElement.prototype.update = function (options) {
    this.options = merge(this.options, options);
    if (this._root) {
      var hidden = hiddenFields(this.options.fields);
      var readOnly = !!this.options.readOnly;
      var inputs = this._inputs;
      Object.keys(inputs).forEach(function (key) {
        inputs[key].disabled = readOnly;
        if (key === "country" || key === "postal") { inputs[key].parentNode.hidden = hidden[key]; }
      });
    }
    return this;
  };

  PaymentElement.prototype.focus = function () { if (this._inputs.number) { this._inputs.number.focus(); } };
  PaymentElement.prototype.blur = CardElement.prototype.blur;
  PaymentElement.prototype.collapse = function () { return this; };

  PaymentElement.prototype.clear = function () {
    var inputs = this._inputs;
    ["number", "expiry", "cvc", "postal"].forEach(function (key) { if (inputs[key]) { inputs[key].value = ""; } });
    if (this._root) { this._changed(0); }
  };

  PaymentElement.prototype.unmount = function () {
    if (this._root && this._root.parentNode) { this._root.parentNode.removeChild(this._root); }
    this._root = null;
    this._inputs = {};
    this._errors = {};
  };

  PaymentElement.prototype.destroy = function () {
    this.unmount();
    this._handlers = {};
    this._destroyed = true;
  };

  /* --------------------------------------------------- Express Checkout Element */

  var DEFAULT_WALLET = {
    card: "4242424242424242",
    cancel: false,
    billingDetails: {
      name: "Wendy Wallet",
      email: "wendy.wallet@example.org",
      phone: "+16085550123",
      address: { line1: "1 Wallet Way", line2: null, city: "Madison", state: "WI", postal_code: "53703", country: "US" }
    }
  };

  function ExpressCheckoutElement(group, options) {
    this.type = "expressCheckout";
    this._group = group;
    this.options = options || {};
    this._handlers = {};
    this._root = null;
    this._busy = false;
  }
  inherit(ExpressCheckoutElement);

  ExpressCheckoutElement.prototype.mount = function (target) {
    var container = mountPoint(target);
    if (this._root) { this.unmount(); }
    var self = this;
    var root = element("div", { "class": "StripeElement StripeExpressCheckoutElement" });
    var button = element("button", { type: "button", "class": "StripeExpressCheckoutElement-button" }, "Pay with test wallet");
    var status = element("p", { role: "status", "class": "StripeExpressCheckoutElement-status" });
    button.addEventListener("click", function () { self._clicked(); });
    button.addEventListener("focus", function () { self._emit("focus", { elementType: "expressCheckout" }); });
    button.addEventListener("blur", function () { self._emit("blur", { elementType: "expressCheckout" }); });
    root.appendChild(button);
    root.appendChild(status);
    container.appendChild(root);
    this._root = root;
    this._button = button;
    this._status = status;
    setTimeout(function () {
      if (self._root !== root) { return; }
      self._emit("ready", {
        elementType: "expressCheckout",
        availablePaymentMethods: { amazonPay: false, applePay: true, googlePay: false, klarna: false, link: false, paypal: false }
      });
    }, 0);
    return this;
  };

  /* The button: "click" (the page must resolve within a second), then the test wallet's sheet
     "authorizes" and "confirm" fires; the page then calls stripe.confirmPayment. */
  ExpressCheckoutElement.prototype._clicked = function () {
    if (this._busy) { return; }
    var self = this;
    var settled = false;
    this._busy = true;
    this._status.textContent = "";
    var open = function (details) {
      if (settled) { return; }
      settled = true;
      setTimeout(function () { self._authorize(details || {}); }, 0);
    };
    var event = {
      elementType: "expressCheckout",
      expressPaymentType: "apple_pay",
      resolve: open,
      reject: function () {
        if (settled) { return; }
        settled = true;
        self._busy = false;
        self._emit("cancel", { elementType: "expressCheckout" });
      }
    };
    if (!this._has("click")) { open({}); return; }
    this._emit("click", event);
    setTimeout(function () {
      if (!settled) {
        settled = true;
        self._busy = false;
        console.error("IntegrationError: event.resolve() or event.reject() must be called within 1 second of the Express Checkout Element's click event.");
        self._emit("cancel", { elementType: "expressCheckout" });
      }
    }, 1000);
  };

  ExpressCheckoutElement.prototype._authorize = function (details) {
    var wallet = merge(DEFAULT_WALLET, (Stripe.standin || {}).wallet);
    if (wallet.cancel) {
      this._busy = false;
      this._emit("cancel", { elementType: "expressCheckout" });
      return;
    }
    var options = merge(this.options, details);
    var billing = wallet.billingDetails || {};
    var billingDetails = { name: billing.name, address: billing.address };
    if (options.emailRequired) { billingDetails.email = billing.email; }
    if (options.phoneNumberRequired) { billingDetails.phone = billing.phone; }
    var self = this;
    var pending = { card: String(wallet.card), billingDetails: billingDetails, element: this };
    this._group._wallet = pending;
    var event = {
      elementType: "expressCheckout",
      expressPaymentType: "apple_pay",
      billingDetails: billingDetails,
      paymentFailed: function (payload) {
        if (self._group._wallet === pending) { self._group._wallet = null; }
        self._busy = false;
        self._status.textContent = (payload && payload.message) || "The payment could not be completed.";
      }
    };
    if (options.shippingAddressRequired) {
      event.shippingAddress = { name: billing.name, address: billing.address };
    }
    if (!this._has("confirm")) {
      console.error("IntegrationError: listen for the Express Checkout Element's confirm event and call stripe.confirmPayment there.");
    }
    this._emit("confirm", event);
  };

  ExpressCheckoutElement.prototype._finished = function (ok, message) {
    this._busy = false;
    if (this._status) { this._status.textContent = ok ? "" : message || "The payment could not be completed."; }
  };

  ExpressCheckoutElement.prototype.update = function (options) { this.options = merge(this.options, options); return this; };
  ExpressCheckoutElement.prototype.focus = function () { if (this._button) { this._button.focus(); } };
  ExpressCheckoutElement.prototype.blur = CardElement.prototype.blur;

  ExpressCheckoutElement.prototype.unmount = function () {
    if (this._root && this._root.parentNode) { this._root.parentNode.removeChild(this._root); }
    this._root = null;
  };

  ExpressCheckoutElement.prototype.destroy = function () {
    this.unmount();
    this._handlers = {};
    this._destroyed = true;
  };

  /* --------------------------------------------------------------- Elements */

  var MODES = ["payment", "setup", "subscription"];

  function Elements(stripe, options) {
    options = options || {};
    this._stripe = stripe;
    this._elements = {};
    this._handlers = {};
    this._wallet = null;
    this._submitted = false;
    if (options.clientSecret !== undefined) {
      this._intent = parseSecret(options.clientSecret, "stripe.elements()");
    } else if (options.mode !== undefined) {
      if (MODES.indexOf(options.mode) < 0) {
        throw IntegrationError("Invalid value for elements(): mode should be one of payment, setup, subscription. You specified: " + options.mode + ".");
      }
      if (options.mode !== "setup" && !(Number.isInteger(options.amount) && options.amount >= 0)) {
        throw IntegrationError("Invalid value for elements(): amount should be a non-negative integer in the currency's smallest unit when mode is " + options.mode + ".");
      }
      if (options.mode !== "setup" && !options.currency) {
        throw IntegrationError("Missing value for elements(): currency is required when mode is " + options.mode + ".");
      }
    }
    this._options = options;
  }
  inherit(Elements);

  Elements.prototype.create = function (type, options) {
    var Kind = { card: CardElement, payment: PaymentElement, expressCheckout: ExpressCheckoutElement }[type];
    if (!Kind) {
      throw IntegrationError("The Stripe stand-in supports the card, payment and expressCheckout Elements, not '" + type + "'.");
    }
    if (type !== "card" && !this._intent && !this._options.mode) {
      throw IntegrationError("In order to create a " + type + " element, you must pass a valid PaymentIntent or SetupIntent client secret, or a mode, when creating the Elements group.\n\n  e.g. stripe.elements({clientSecret: \"{{CLIENT_SECRET}}\"})");
    }
    if (this._elements[type] && !this._elements[type]._destroyed) {
      throw IntegrationError("Can only create one Element of type " + type + ".");
    }
    this._elements[type] = type === "card" ? new CardElement(options) : new Kind(this, options);
    return this._elements[type];
  };

  Elements.prototype.getElement = function (type) {
    var found = this._elements[type];
    return found && !found._destroyed ? found : null;
  };

  Elements.prototype.update = function (options) {
    this._options = merge(this._options, options);
    var self = this;
    return Promise.resolve().then(function () { self._emit("update-end"); });
  };

  Elements.prototype.fetchUpdates = function () { return Promise.resolve({}); };

  /* Validate what the donor entered (or take the wallet's authorization) before any async work. */
  Elements.prototype.submit = function () {
    var self = this;
    if (this._wallet) {
      this._submitted = true;
      return Promise.resolve({ selectedPaymentMethod: "apple_pay" });
    }
    var payment = this.getElement("payment");
    if (!payment || !payment._root) {
      return Promise.reject(IntegrationError("elements.submit(): no mounted payment Element, and no Express Checkout confirmation in progress."));
    }
    var error = payment._validate();
    this._submitted = !error;
    return Promise.resolve(error ? { error: error } : { selectedPaymentMethod: "card" }).then(function (outcome) {
      if (outcome.error) { self._submitted = false; }
      return outcome;
    });
  };

  /* The payment_method_data to confirm with (wallet token, or the Payment Element's fields). */
  Elements.prototype._paymentMethodData = function (stripe, extra) {
    var wallet = this._wallet;
    if (wallet) {
      var billing = merge(wallet.billingDetails, (extra || {}).billing_details);
      var address = billing.address || {};
      return api("POST", "/v1/tokens", {
        key: stripe._key, pk_token: wallet.card, pk_token_instrument_name: "Test wallet",
        pk_token_payment_network: brandOf(wallet.card), pk_token_transaction_id: "standin-" + Date.now(),
        card: {
          name: billing.name, address_line1: address.line1, address_line2: address.line2,
          address_city: address.city, address_state: address.state, address_zip: address.postal_code,
          address_country: address.country
        }
      }).then(function (answer) {
        if (!answer.ok) { return { error: answer.body.error }; }
        var data = merge(extra, { type: "card", card: { token: answer.body.id } });
        data.billing_details = billing;
        return { data: data };
      });
    }
    var payment = this.getElement("payment");
    if (!payment || !payment._root) {
      throw IntegrationError("confirm: the Elements group has no mounted payment Element to collect payment details from.");
    }
    var error = payment._validate();
    if (error) { return Promise.resolve({ error: error }); }
    return Promise.resolve({ data: payment._paymentMethodData(extra) });
  };

  /* -------------------------------------------------------------- Stripe object */

  function Stripe(publishableKey, options) {
    if (!(this instanceof Stripe)) { return new Stripe(publishableKey, options); }
    if (!/^pk_(test|live)_/.test(String(publishableKey || ""))) {
      throw IntegrationError("Invalid API Key provided: " + publishableKey + ". Use a publishable key (pk_test_...).");
    }
    this._key = publishableKey;
    this._options = options || {};
  }

  // Test-only settings of the stand-in's wallet (see the header comment).
  Stripe.standin = { wallet: {} };

  Stripe.prototype.elements = function (options) {
    return new Elements(this, options);
  };

  function redirectTo(returnUrl, params) {
    var url = new URL(returnUrl);
    Object.keys(params).forEach(function (name) { url.searchParams.append(name, params[name]); });
    window.location.assign(url.toString());
    return new Promise(function () {});  // the page is going away, as with Stripe's redirect
  }

  var REDIRECT_STATUS = { succeeded: "succeeded", processing: "processing", requires_capture: "succeeded" };

  /* confirmPayment / confirmSetup: one flow, two kinds of intent. */
  Stripe.prototype._confirm = function (kind, options) {
    var method = kind === "payment_intent" ? "stripe.confirmPayment()" : "stripe.confirmSetup()";
    if (!isObject(options)) { throw IntegrationError(method + " expects an options object."); }
    var elements = options.elements;
    var confirmParams = options.confirmParams || {};
    var redirect = options.redirect || "always";
    if (redirect !== "always" && redirect !== "if_required") {
      throw IntegrationError("Invalid value for " + method + ": redirect should be \"always\" or \"if_required\".");
    }
    if (elements && !(elements instanceof Elements)) {
      throw IntegrationError("Invalid value for " + method + ": elements should be an Elements group created with stripe.elements().");
    }
    var intent = options.clientSecret !== undefined ? parseSecret(options.clientSecret, method) : elements && elements._intent;
    if (!intent) {
      throw IntegrationError(method + ": a clientSecret is required when the Elements group was created without one.");
    }
    if (intent.kind !== kind) {
      throw IntegrationError(method + ": the client secret belongs to a " + intent.kind.replace("_", " ") + "; use " + (kind === "payment_intent" ? "stripe.confirmSetup()" : "stripe.confirmPayment()") + ".");
    }
    if (elements && !elements._intent && !elements._submitted) {
      throw IntegrationError(method + ": elements.submit() must be called before " + method + ". Call elements.submit() as soon as your customer presses pay, prior to any asynchronous work.");
    }
    if (redirect === "always" && !confirmParams.return_url) {
      throw IntegrationError(method + ": the `confirmParams.return_url` argument is required unless passing `redirect: 'if_required'`.");
    }
    if (confirmParams.return_url && !/^https?:\/\//.test(confirmParams.return_url)) {
      throw IntegrationError(method + ": confirmParams.return_url must be an absolute URL (https://...).");
    }
    if (!elements && !confirmParams.payment_method) {
      throw IntegrationError(method + ": pass `elements`, or a `confirmParams.payment_method`.");
    }
    var self = this;
    var key = kind === "payment_intent" ? "paymentIntent" : "setupIntent";
    var path = (kind === "payment_intent" ? "/v1/payment_intents/" : "/v1/setup_intents/") + intent.id + "/confirm";
    var params = merge(confirmParams, { key: this._key, client_secret: intent.secret });
    delete params.payment_method_data;
    var wallet = elements && elements._wallet;
    var collected = confirmParams.payment_method
      ? Promise.resolve({ data: null })
      : elements._paymentMethodData(this, confirmParams.payment_method_data);
    return collected.then(function (collectedData) {
      if (collectedData.error) { return { error: collectedData.error }; }
      if (collectedData.data) { params.payment_method_data = collectedData.data; }
      return api("POST", path, params).then(function (answer) {
        if (elements) { elements._submitted = false; }
        if (wallet) {
          elements._wallet = null;
          wallet.element._finished(answer.ok, answer.ok ? "" : (answer.body.error || {}).message);
        }
        var outcome = result(key, answer);
        if (outcome.error) { return outcome; }
        var status = REDIRECT_STATUS[answer.body.status];
        if (redirect === "if_required" || !status) { return outcome; }
        var query = {};
        query[kind] = answer.body.id;
        query[kind + "_client_secret"] = intent.secret;
        query.redirect_status = status;
        return redirectTo(confirmParams.return_url, query);
      });
    });
  };

  /*
   * confirmPayment({elements, clientSecret?, confirmParams: {return_url, payment_method_data?, ...},
   *   redirect?: "always" | "if_required"}): redirects to return_url with payment_intent,
   * payment_intent_client_secret and redirect_status, or resolves {paymentIntent} / {error}.
   */
  Stripe.prototype.confirmPayment = function (options) {
    return this._confirm("payment_intent", options);
  };

  /* confirmSetup: the same for a SetupIntent (setup_intent, setup_intent_client_secret, redirect_status). */
  Stripe.prototype.confirmSetup = function (options) {
    return this._confirm("setup_intent", options);
  };

  function cardParams(stripe, clientSecret, data, method) {
    var params = { key: stripe._key, client_secret: clientSecret };
    var pm = data.payment_method;
    if (typeof pm === "string") {
      params.payment_method = pm;
    } else if (pm && pm.card) {
      var card = pm.card;
      if (!(card instanceof CardElement) || !card._root) {
        throw IntegrationError(method + ": payment_method.card must be a mounted card Element.");
      }
      var values = card._values();
      var state = checkCard(values, 2);
      if (state.error) {
        return { error: { type: state.error.type, code: state.error.code, message: state.error.message } };
      }
      var expiry = parseExpiry(values.expiry);
      params.payment_method_data = {
        type: "card",
        card: { number: digits(values.number), exp_month: expiry.month, exp_year: expiry.year, cvc: digits(values.cvc) },
        billing_details: pm.billing_details
      };
    }
    return { params: params };
  }

  /*
   * confirmCardPayment(clientSecret, {payment_method: {card: element, billing_details}
   *   | "pm_...", receipt_email?, setup_future_usage?, return_url?})
   * Resolves {paymentIntent} or {error}; never rejects for card or validation errors.
   */
  Stripe.prototype.confirmCardPayment = function (clientSecret, data) {
    var intent = parseSecret(clientSecret, "confirmCardPayment");
    if (intent.kind !== "payment_intent") { throw IntegrationError("confirmCardPayment: use confirmCardSetup for a SetupIntent."); }
    data = data || {};
    var built = cardParams(this, clientSecret, data, "confirmCardPayment");
    if (built.error) { return Promise.resolve({ error: built.error }); }
    ["receipt_email", "setup_future_usage", "return_url"].forEach(function (name) {
      if (data[name] !== undefined) { built.params[name] = data[name]; }
    });
    return api("POST", "/v1/payment_intents/" + intent.id + "/confirm", built.params).then(function (answer) {
      return result("paymentIntent", answer);
    });
  };

  /* confirmCardSetup(clientSecret, {payment_method: {card: element, billing_details} | "pm_..."}). */
  Stripe.prototype.confirmCardSetup = function (clientSecret, data) {
    var intent = parseSecret(clientSecret, "confirmCardSetup");
    if (intent.kind !== "setup_intent") { throw IntegrationError("confirmCardSetup: use confirmCardPayment for a PaymentIntent."); }
    var built = cardParams(this, clientSecret, data || {}, "confirmCardSetup");
    if (built.error) { return Promise.resolve({ error: built.error }); }
    return api("POST", "/v1/setup_intents/" + intent.id + "/confirm", built.params).then(function (answer) {
      return result("setupIntent", answer);
    });
  };

  /* retrievePaymentIntent(clientSecret) resolves {paymentIntent} or {error}. */
  Stripe.prototype.retrievePaymentIntent = function (clientSecret) {
    var intent = parseSecret(clientSecret, "retrievePaymentIntent");
    if (intent.kind !== "payment_intent") { throw IntegrationError("retrievePaymentIntent: that client secret belongs to a " + intent.kind.replace("_", " ") + "."); }
    return api("GET", "/v1/payment_intents/" + intent.id, { key: this._key, client_secret: clientSecret }).then(function (answer) {
      return result("paymentIntent", answer);
    });
  };

  /* retrieveSetupIntent(clientSecret) resolves {setupIntent} or {error}. */
  Stripe.prototype.retrieveSetupIntent = function (clientSecret) {
    var intent = parseSecret(clientSecret, "retrieveSetupIntent");
    if (intent.kind !== "setup_intent") { throw IntegrationError("retrieveSetupIntent: that client secret belongs to a " + intent.kind.replace("_", " ") + "."); }
    return api("GET", "/v1/setup_intents/" + intent.id, { key: this._key, client_secret: clientSecret }).then(function (answer) {
      return result("setupIntent", answer);
    });
  };

  window.Stripe = Stripe;
})();
