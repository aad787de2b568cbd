// Thank-you page: the webhook may land a moment after the card is confirmed; refresh the totals.
(function () {
  "use strict";
  var raised = document.getElementById("raised");
  var count = document.getElementById("count");
  var slug = document.body.dataset.slug;
  var tries = 0;
  if (!raised) return;  // the payment did not go through: no totals on the page
  function dollars(cents) { return "$" + (cents / 100).toLocaleString("en-US", { minimumFractionDigits: cents % 100 ? 2 : 0 }); }
  function refresh() {
    fetch("/api/pages/" + encodeURIComponent(slug)).then(function (r) { return r.json(); }).then(function (page) {
      raised.textContent = dollars(page.raised_cents);
      count.textContent = (page.contribution_count === 1 ? count.dataset.one : count.dataset.other)
        .replace("{count}", page.contribution_count);
    }).catch(function () {}).then(function () { if (++tries < 5) setTimeout(refresh, 1500); });
  }
  setTimeout(refresh, 1000);
})();
