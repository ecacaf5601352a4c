// Our pay page for Stripe: Stripe.js's Card Element, then confirmCardPayment with the
// PaymentIntent's client secret. The card details go from the browser to Stripe only.
// On success the shopper goes to our return page, which waits for Stripe's webhook.
(function () {
  "use strict";

  var form = document.getElementById("payment-form");
  if (!form) return;
  var button = document.getElementById("pay-button");
  var error = document.getElementById("payment-error");

  if (typeof Stripe === "undefined") {
    error.textContent = "The payment form could not load. Please reload the page.";
    button.disabled = true;
    return;
  }

  var stripe = Stripe(form.getAttribute("data-publishable-key"));
  var card = stripe.elements().create("card");
  card.mount("#card-element");

  var held = document.querySelector("[data-held-until]");
  if (held) {
    held.textContent = new Date(parseFloat(held.getAttribute("data-held-until")) * 1000).toLocaleTimeString();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    error.textContent = "";
    stripe
      .confirmCardPayment(form.getAttribute("data-client-secret"), { payment_method: { card: card } })
      .then(function (result) {
        if (result.error) {
          error.textContent = result.error.message || "Your card was not accepted. Try another card.";
          button.disabled = false;
          return;
        }
        window.location.assign(form.getAttribute("data-return-url"));
      });
  });
})();
