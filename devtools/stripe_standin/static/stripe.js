/*
 * Stripe.js stand-in served by devtools.stripe_standin (GET /v3/).
 * Implements Stripe(pk).elements().create('card'), confirmCardPayment and
 * retrievePaymentIntent against the stand-in that served this file.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  // API calls go back to whichever stand-in served this script, not to the page's origin.
  var API_ORIGIN = script && script.src ? new URL(script.src, window.location.href).origin : window.location.origin;

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

  function validationError(code, message) {
    return { type: "validation_error", code: code, message: message };
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
      error = validationError("incorrect_number", "Your card number is invalid.");
    } else if (expiry && (expiry.month < 1 || expiry.month > 12)) {
      error = validationError("invalid_expiry_month", "Your card's expiration date is invalid.");
    } else if (expiry && expiry.year < now.getFullYear()) {
      error = validationError("invalid_expiry_year_past", "Your card's expiration year is in the past.");
    } else if (expiry && expiry.year === now.getFullYear() && expiry.month < now.getMonth() + 1) {
      error = validationError("invalid_expiry_month_past", "Your card's expiration date is in the past.");
    } else if (reportIncomplete(strict, number) && number.length < numberLength) {
      error = validationError("incomplete_number", "Your card number is incomplete.");
    } else if (reportIncomplete(strict, digits(values.expiry)) && !expiry) {
      error = validationError("incomplete_expiry", "Your card's expiration date is incomplete.");
    } else if (reportIncomplete(strict, cvc) && cvc.length < cvcLength) {
      error = validationError("incomplete_cvc", "Your card's security code is incomplete.");
    }
    var complete = !error && number.length >= numberLength && !!expiry && cvc.length >= cvcLength;
    return { complete: complete, error: error, brand: brand, empty: !number && !values.expiry && !cvc };
  }

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

  CardElement.prototype.mount = function (target) {
    var container = typeof target === "string" ? document.querySelector(target) : target;
    if (!container || !container.appendChild) {
      throw IntegrationError("The selector you specified (" + target + ") applies to no DOM elements that are currently on the page.");
    }
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
    this._emit("change", {
      elementType: "card", empty: state.empty, complete: state.complete,
      error: state.error || undefined, brand: state.brand, value: { postalCode: "" }
    });
  };

  CardElement.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).forEach(function (handler) { handler(payload); });
  };

  CardElement.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };

  CardElement.prototype.off = function (event, handler) {
    this._handlers[event] = (this._handlers[event] || []).filter(function (h) { return handler && h !== handler; });
    return this;
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

  function Elements() {
    this._elements = {};
  }

  Elements.prototype.create = function (type, options) {
    if (type !== "card") {
      throw IntegrationError("The stripe stand-in only supports the 'card' Element, not '" + type + "'.");
    }
    if (this._elements.card && !this._elements.card._destroyed) {
      throw IntegrationError("Can only create one Element of type card.");
    }
    this._elements.card = new CardElement(options);
    return this._elements.card;
  };

  Elements.prototype.getElement = function (type) {
    var element = this._elements[type];
    return element && !element._destroyed ? element : null;
  };

  function intentId(clientSecret, method) {
    var match = /^(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/.exec(String(clientSecret || ""));
    if (!match) {
      throw IntegrationError("Invalid value for " + method + ": clientSecret should be a client secret of the form ${id}_secret_${secret}. You specified: " + clientSecret + ".");
    }
    return match[1];
  }

  function request(method, path, params) {
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
        return response.ok ? { paymentIntent: json } : { error: json.error || { type: "api_error", message: "Unexpected response" } };
      });
    }, function (err) {
      return { error: { type: "api_connection_error", message: "Could not reach the Stripe stand-in at " + API_ORIGIN + ": " + err } };
    });
  }

  function Stripe(publishableKey, options) {
    if (!(this instanceof Stripe)) { return new Stripe(publishableKey, options); }
    if (!/^pk_(test|live)_/.test(String(publishableKey || ""))) {
      throw IntegrationError("Invalid API Key provided: " + publishableKey + ". Use a publishable key (pk_test_...).");
    }
    this._key = publishableKey;
  }

  Stripe.prototype.elements = function () {
    return new Elements();
  };

  /*
   * confirmCardPayment(clientSecret, {payment_method: {card: element, billing_details}
   *   | "pm_...", receipt_email?, setup_future_usage?, return_url?})
   * Resolves {paymentIntent} or {error}; never rejects for card or validation errors.
   */
  Stripe.prototype.confirmCardPayment = function (clientSecret, data) {
    var id = intentId(clientSecret, "confirmCardPayment");
    data = data || {};
    var params = { key: this._key, client_secret: clientSecret };
    var pm = data.payment_method;
    if (typeof pm === "string") {
      params.payment_method = pm;
    } else if (pm && pm.card) {
      var element = pm.card;
      if (!(element instanceof CardElement) || !element._root) {
        throw IntegrationError("payment_method.card must be a mounted card Element.");
      }
      var values = element._values();
      var state = checkCard(values, 2);
      if (state.error) { return Promise.resolve({ error: state.error }); }
      var expiry = parseExpiry(values.expiry);
      params.payment_method_data = {
        type: "card",
        card: { number: digits(values.number), exp_month: expiry.month, exp_year: expiry.year, cvc: digits(values.cvc) },
        billing_details: pm.billing_details
      };
    }
    ["receipt_email", "setup_future_usage", "return_url"].forEach(function (name) {
      if (data[name] !== undefined) { params[name] = data[name]; }
    });
    return request("POST", "/v1/payment_intents/" + id + "/confirm", params);
  };

  /* retrievePaymentIntent(clientSecret) resolves {paymentIntent} or {error}. */
  Stripe.prototype.retrievePaymentIntent = function (clientSecret) {
    var id = intentId(clientSecret, "retrievePaymentIntent");
    return request("GET", "/v1/payment_intents/" + id, { key: this._key, client_secret: clientSecret });
  };

  window.Stripe = Stripe;
})();
