// The portal's new card for every monthly gift: Stripe's Payment Element confirms the SetupIntent
// the server made (no redirect for a card), then the page posts its id back with the session's
// CSRF token, and the server puts the card on the customer and on each monthly gift.
(function () {
  "use strict";
  var form = document.getElementById("card");
  if (!form) return;
  var stripe = Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  elements.create("payment").mount("#payment-element");
  var error = document.getElementById("card-error");
  var button = document.getElementById("save-card");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.hidden = true;
    button.disabled = true;
    stripe.confirmSetup({ elements: elements, redirect: "if_required" }).then(function (result) {
      if (result.error) {
        error.textContent = result.error.message || "The card was not saved.";
        error.hidden = false;
        button.disabled = false;
        return;
      }
      var apply = document.getElementById("apply");
      apply.elements.setup_intent.value = result.setupIntent.id;
      apply.submit();
    });
  });
})();
