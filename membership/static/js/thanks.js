// The thank-you page while the payment is being confirmed: ask every half second whether the
// webhook has arrived, and show the confirmed page as soon as it has (no fixed 3-second wait).
const section = document.querySelector("[data-thanks-status]");

async function check() {
  try {
    const response = await fetch(section.dataset.thanksStatus, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.ok && (await response.json()).state !== "processing") {
      window.location.reload();
      return;
    }
  } catch {
    // A network blip: try again on the next tick.
  }
  setTimeout(check, 500);
}

if (section) setTimeout(check, 500);
