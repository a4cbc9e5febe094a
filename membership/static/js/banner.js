// Personalises the support banner without making the article page uncacheable:
// the page carries the control variant; this asks /api/banner which variant this reader sees.
const HIDDEN_COOKIE = "obs_banner_hidden_until";
const LABELS = { once: "Give once", monthly: "Give monthly", annual: "Give every year" };
const SUFFIX = { once: "", monthly: " a month", annual: " a year" };

function hiddenUntil() {
  const match = document.cookie.match(new RegExp(`(?:^|; )${HIDDEN_COOKIE}=(\\d+)`));
  return match ? Number(match[1]) : 0;
}

function supportHref(base, params) {
  const url = new URL(base, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  return url.pathname + url.search;
}

function renderAmounts(banner, variant, frequency) {
  const list = banner.querySelector("[data-banner-amounts]");
  const label = banner.querySelector("[data-banner-frequency-label]");
  const base = banner.dataset.supportUrl;
  const source = banner.dataset.article;
  list.replaceChildren();
  const labels = (variant.amount_labels || {})[frequency] || [];
  for (const [index, cents] of (variant.amounts[frequency] || []).entries()) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.className = "button";
    link.href = supportHref(base, { amount: cents, frequency, source, variant: variant.id });
    link.textContent = (labels[index] ?? String(cents)) + SUFFIX[frequency];
    item.append(link);
    list.append(item);
  }
  const other = document.createElement("li");
  const link = document.createElement("a");
  link.className = "button button--secondary";
  link.href = supportHref(base, { frequency, source, variant: variant.id });
  link.textContent = "Other amount";
  other.append(link);
  list.append(other);
  if (label) label.textContent = LABELS[frequency];
}

function frequencySwitch(banner, variant) {
  const frequencies = Object.keys(LABELS).filter((f) => (variant.amounts[f] || []).length);
  if (frequencies.length < 2) return;
  const list = document.createElement("ul");
  list.className = "support-banner__frequencies";
  list.setAttribute("aria-label", "How often");
  for (const frequency of frequencies) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = LABELS[frequency];
    button.setAttribute("aria-pressed", String(frequency === variant.default_frequency));
    button.addEventListener("click", () => {
      for (const other of list.querySelectorAll("button")) other.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-pressed", "true");
      renderAmounts(banner, variant, frequency);
    });
    item.append(button);
    list.append(item);
  }
  const label = banner.querySelector("[data-banner-frequency-label]");
  if (label) label.hidden = true;
  banner.querySelector("[data-banner-amounts]").before(list);
}

function dismissible(banner, days) {
  const button = banner.querySelector("[data-banner-dismiss]");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const until = Date.now() + days * 86400 * 1000;
    document.cookie = `${HIDDEN_COOKIE}=${until}; max-age=${days * 86400}; path=/; samesite=lax`;
    banner.hidden = true;
  });
}

async function personalise(banner) {
  if (hiddenUntil() > Date.now()) {
    banner.hidden = true;
    return;
  }
  let answer;
  try {
    const response = await fetch(`/api/banner?article=${encodeURIComponent(banner.dataset.article)}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    answer = await response.json();
  } catch {
    return; // The control variant stays: the appeal still works without us.
  }
  if (!answer.show) {
    if (answer.thanks) {
      banner.classList.add("support-banner--thanks");
      banner.querySelector("[data-banner-headline]").textContent = answer.thanks.headline;
      banner.querySelector("[data-banner-body]").textContent = answer.thanks.body;
      banner.querySelector("[data-banner-amounts]").remove();
      banner.querySelector("[data-banner-frequency-label]")?.remove();
    } else {
      banner.hidden = true;
    }
    return;
  }
  const variant = answer.variant;
  banner.dataset.variant = String(variant.id);
  banner.querySelector("[data-banner-headline]").textContent = variant.headline;
  banner.querySelector("[data-banner-body]").textContent = variant.body;
  renderAmounts(banner, variant, variant.default_frequency);
  frequencySwitch(banner, variant);
  dismissible(banner, answer.dismiss_days || 14);
}

const banner = document.querySelector("[data-banner]");
if (banner) personalise(banner);
