// Shows the exact total (gift plus the optional card fee) as the reader fills in the form.
// The server computes the same figure; this only saves the reader a guess.
const form = document.querySelector("[data-support-form]");

function parseCents(text) {
  const match = /^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) return null;
  const whole = Number(match[1].replaceAll(",", ""));
  const fraction = Number((match[2] || "").padEnd(2, "0"));
  return whole * 100 + fraction;
}

function fee(cents, percent, fixed) {
  if (percent <= 0 && fixed <= 0) return 0;
  // Integer arithmetic in basis points, rounded up like the server's Decimal code.
  const rateBp = Math.round(percent * 100);
  const total = Math.ceil(((cents + fixed) * 10000) / (10000 - rateBp));
  return total - cents;
}

function money(cents) {
  const whole = Math.floor(cents / 100);
  const rest = cents % 100;
  return `$${whole.toLocaleString("en-US")}.${String(rest).padStart(2, "0")}`;
}

function update() {
  const output = form.querySelector("[data-support-total]");
  const choice = form.querySelector("input[name=amount_choice]:checked");
  let cents = null;
  if (choice && choice.value !== "other") cents = Number(choice.value);
  else cents = parseCents(form.querySelector("#other_amount").value);
  const frequency = form.querySelector("input[name=frequency]:checked")?.value || "once";
  if (!cents) {
    output.textContent = "";
    return;
  }
  const covered = form.querySelector("#cover_fee").checked;
  const extra = covered ? fee(cents, Number(form.dataset.feePercent), Number(form.dataset.feeFixed)) : 0;
  const every = { once: "", monthly: " every month", annual: " every year" }[frequency];
  output.textContent = covered
    ? `Total: ${money(cents + extra)}${every} (your ${money(cents)} gift plus ${money(extra)} card fee)`
    : `Total: ${money(cents)}${every}`;
}

if (form) {
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.querySelector("#other_amount").addEventListener("focus", () => {
    const other = form.querySelector("input[name=amount_choice][value=other]");
    if (other) other.checked = true;
  });
  update();
}
