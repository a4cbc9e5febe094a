// Shows the exact total (gift plus the optional card fee) as the reader fills in the form, and
// switches the preset amounts with the frequency (without JavaScript, "Show amounts" asks the
// server). The server computes the same figures; this only saves the reader a round trip.
// Amounts are Stripe's integers (data-per-unit of them make one unit of data-currency), shown in
// data-locale.
const form = document.querySelector("[data-support-form]");

function parseAmount(text, perUnit, digits) {
  const match = /^\D{0,4}?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!match) return null;
  const fraction = match[2] || "";
  if (fraction.length > digits) return null;
  const whole = Number(match[1].replaceAll(",", ""));
  const scaled = digits ? Number(fraction.padEnd(digits, "0")) * (perUnit / 10 ** digits) : 0;
  return whole * perUnit + scaled;
}

function fee(amount, percent, fixed, step) {
  if (percent <= 0 && fixed <= 0) return 0;
  // Integer arithmetic in basis points, rounded up like the server's Decimal code.
  const rateBp = Math.round(percent * 100);
  let total = Math.ceil(((amount + fixed) * 10000) / (10000 - rateBp));
  total = Math.ceil(total / step) * step;
  return total - amount;
}

function formatter() {
  const { currency, locale, perUnit, digits } = form.dataset;
  const money = new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: 0,
    maximumFractionDigits: Number(digits),
  });
  return (amount) => money.format(amount / Number(perUnit));
}

function update() {
  const output = form.querySelector("[data-support-total]");
  const perUnit = Number(form.dataset.perUnit);
  const digits = Number(form.dataset.digits);
  const step = Number(form.dataset.step);
  const money = formatter();
  const choice = form.querySelector("input[name=amount_choice]:checked");
  let amount = null;
  if (choice && choice.value !== "other") amount = Number(choice.value);
  else amount = parseAmount(form.querySelector("#other_amount").value, perUnit, digits);
  const frequency = form.querySelector("input[name=frequency]:checked")?.value || "once";
  if (!amount) {
    output.textContent = "";
    return;
  }
  const covered = form.querySelector("#cover_fee").checked;
  const extra = covered
    ? fee(amount, Number(form.dataset.feePercent), Number(form.dataset.feeFixed), step)
    : 0;
  const every = { once: "", monthly: " every month", annual: " every year" }[frequency];
  output.textContent = covered
    ? `Total: ${money(amount + extra)}${every} (your ${money(amount)} gift plus ${money(extra)} card fee)`
    : `Total: ${money(amount)}${every}`;
}

// The server's own labels (data-preset-labels), in the newsroom's currency and locale.
function presetLabel(cents) {
  const labels = JSON.parse(form.dataset.presetLabels || "{}");
  return labels[String(cents)] ?? formatter()(cents);
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
