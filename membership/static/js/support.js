// Shows the exact total (gift plus the optional card fee) as the reader fills in the form, and
// switches the preset amounts with the frequency (without JavaScript, "Show amounts" asks the
// server). The server computes the same figures; this only saves the reader a round trip.
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

function presetLabel(cents) {
  const whole = cents % 100 === 0;
  return `$${(cents / 100).toLocaleString("en-US", { minimumFractionDigits: whole ? 0 : 2 })}`;
}

function switchAmounts(frequency) {
  const presets = JSON.parse(form.dataset.presets || "{}")[frequency];
  const legend = JSON.parse(form.dataset.legends || "{}")[frequency];
  const box = form.querySelector("[data-amounts]");
  if (!presets || !box) return;
  const chosen = form.querySelector("input[name=amount_choice]:checked")?.value;
  const other = box.querySelector("input[value=other]").closest("label");
  for (const label of [...box.querySelectorAll("label")]) if (label !== other) label.remove();
  for (const cents of presets) {
    const label = document.createElement("label");
    label.className = "choice";
    const input = document.createElement("input");
    Object.assign(input, { type: "radio", name: "amount_choice", value: String(cents) });
    input.checked = String(cents) === chosen;
    label.append(input, ` ${presetLabel(cents)}`);
    other.before(label);
  }
  if (legend) form.querySelector("[data-amounts-legend]").textContent = legend;
}

if (form) {
  form.querySelector("[data-amounts-refresh]")?.setAttribute("hidden", "");
  for (const radio of form.querySelectorAll("input[name=frequency]")) {
    radio.addEventListener("change", () => switchAmounts(radio.value));
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.querySelector("#other_amount").addEventListener("focus", () => {
    const other = form.querySelector("input[name=amount_choice][value=other]");
    if (other) other.checked = true;
  });
  update();
}
