// Personalises the appeals without making the pages uncacheable: each page carries its placements'
// control variants; this asks /api/banner what this reader sees. What only the browser may know
// stays here, in localStorage, never sent to us: how many articles were read this month (readers
// can turn counting off) and how often the appeal was seen without a click this week.
const HIDDEN_COOKIE = "obs_banner_hidden_until";
const COUNT_KEY = "obs_articles";
const COUNT_OFF = "obs_articles_off";
const CAP_KEY = "obs_appeal_views";
const WEEK = 7 * 86400 * 1000;
const LABELS = { once: "Give once", monthly: "Give monthly", annual: "Give every year" };
const SUFFIX = { once: "", monthly: " a month", annual: " a year" };

const store = {
  get(key) {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify(value));
    } catch {
      // Storage refused (private mode, full): the appeal works without it.
    }
  },
};

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function hiddenUntil() {
  const match = document.cookie.match(new RegExp(`(?:^|; )${HIDDEN_COOKIE}=(\\d+)`));
  return match ? Number(match[1]) : 0;
}

// Articles read this month, counted once each; 0 when the reader turned counting off.
function articlesRead(slug) {
  if (store.get(COUNT_OFF)) return 0;
  const month = new Date().toISOString().slice(0, 7);
  let data = store.get(COUNT_KEY);
  if (!data || data.month !== month || !Array.isArray(data.slugs)) data = { month, slugs: [] };
  if (slug && !data.slugs.includes(slug)) data.slugs = [...data.slugs, slug].slice(-500);
  store.set(COUNT_KEY, data);
  return data.slugs.length;
}

// Views of the appeal without a click in the current week, this one included.
function viewsWithoutClick() {
  let state = store.get(CAP_KEY);
  if (!state || !(Date.now() - state.since < WEEK)) state = { since: Date.now(), views: 0 };
  state.views += 1;
  store.set(CAP_KEY, state);
  return state.views;
}

function supportHref(base, params) {
  const url = new URL(base, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value) url.searchParams.set(key, String(value));
  }
  return url.pathname + url.search;
}

function part(banner, name) {
  return banner.querySelector(`[data-banner-${name}]`);
}

function renderAmounts(banner, variant, frequency) {
  const list = part(banner, "amounts");
  const base = variant.support_url || banner.dataset.supportUrl;
  const source = banner.dataset.article;
  list.replaceChildren();
  const labels = (variant.amount_labels || {})[frequency] || [];
  for (const [index, cents] of (variant.amounts[frequency] || []).entries()) {
    const href = supportHref(base, { amount: cents, frequency, source, variant: variant.id });
    const text = (labels[index] ?? String(cents)) + SUFFIX[frequency];
    list.append(el("li", {}, el("a", { className: "button", href }, text)));
  }
  const href = supportHref(base, { frequency, source, variant: variant.id });
  list.append(el("li", {}, el("a", { className: "button button--secondary", href }, "Other amount")));
  const label = part(banner, "frequency-label");
  if (label) label.textContent = LABELS[frequency];
}

function frequencySwitch(banner, variant) {
  const frequencies = Object.keys(LABELS).filter((f) => (variant.amounts[f] || []).length);
  if (frequencies.length < 2) return;
  const list = el("ul", { className: "support-banner__frequencies" });
  list.setAttribute("aria-label", "How often");
  for (const frequency of frequencies) {
    const button = el("button", { type: "button" }, LABELS[frequency]);
    button.setAttribute("aria-pressed", String(frequency === variant.default_frequency));
    button.addEventListener("click", () => {
      for (const other of list.querySelectorAll("button")) other.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-pressed", "true");
      renderAmounts(banner, variant, frequency);
    });
    list.append(el("li", {}, button));
  }
  const label = part(banner, "frequency-label");
  if (label) label.hidden = true;
  part(banner, "amounts").before(list);
}

function dismissible(banner, days) {
  const button = part(banner, "dismiss");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const until = Date.now() + days * 86400 * 1000;
    document.cookie = `${HIDDEN_COOKIE}=${until}; max-age=${days * 86400}; path=/; samesite=lax`;
    banner.hidden = true;
  });
}

function articleCount(banner, count) {
  const line = el("p", { className: "support-banner__count" }, `You've read ${count} articles this month. `);
  const off = el("button", { type: "button", className: "support-banner__dismiss" }, "Stop counting");
  off.addEventListener("click", () => {
    store.set(COUNT_OFF, true);
    store.set(COUNT_KEY, null);
    line.replaceChildren("We've stopped counting the articles you read on this device.");
  });
  line.append(off);
  part(banner, "headline").after(line);
}

// After too many views without a click, the appeal shrinks to one line the reader can open.
function collapse(banner) {
  banner.classList.add("support-banner--collapsed");
  const open = el("button", { type: "button", className: "support-banner__dismiss" }, "Show the appeal");
  open.setAttribute("aria-expanded", "false");
  open.addEventListener("click", () => {
    banner.classList.remove("support-banner--collapsed");
    open.remove();
  });
  part(banner, "headline").after(open);
}

function thank(banner, thanks) {
  banner.classList.add("support-banner--thanks");
  part(banner, "headline").textContent = thanks.headline;
  part(banner, "body").textContent = thanks.body;
  part(banner, "amounts").replaceChildren();
  part(banner, "frequency-label")?.remove();
  if (thanks.upgrade) {
    const link = el("a", { className: "button button--secondary", href: thanks.upgrade.href }, thanks.upgrade.text);
    part(banner, "body").after(el("p", {}, `${thanks.upgrade.body} `, link));
  }
}

async function personalise(banner, count) {
  const placement = banner.dataset.placement || "article";
  if (hiddenUntil() > Date.now()) {
    banner.hidden = true;
    return;
  }
  let answer;
  try {
    const query = new URLSearchParams({ article: banner.dataset.article || "", placement });
    const response = await fetch(`/api/banner?${query}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    answer = await response.json();
  } catch {
    return; // The control variant stays: the appeal still works without us.
  }
  if (!answer.show) {
    if (answer.thanks && placement === "article") thank(banner, answer.thanks);
    else banner.hidden = true;
    return;
  }
  const variant = answer.variant;
  if (placement === "sticky" && !(count >= (variant.article_count_threshold || Infinity))) return;
  banner.hidden = false;
  banner.dataset.variant = String(variant.id);
  part(banner, "headline").textContent = variant.headline;
  part(banner, "body").textContent = variant.body;
  renderAmounts(banner, variant, variant.default_frequency);
  frequencySwitch(banner, variant);
  dismissible(banner, answer.dismiss_days || 14);
  if (count && variant.article_count_threshold && count >= variant.article_count_threshold) {
    articleCount(banner, count);
  }
  banner.addEventListener("click", (event) => {
    if (event.target.closest("a")) store.set(CAP_KEY, null);
  });
  if (viewsWithoutClick() > (answer.collapse_after || 5)) collapse(banner);
}

const banners = document.querySelectorAll("[data-banner]");
const count = banners.length ? articlesRead(banners[0].dataset.article) : 0;
for (const banner of banners) {
  // A sticky appeal is only asked for once the reader has read enough articles.
  const threshold = Number(banner.dataset.countThreshold || 0);
  if (banner.dataset.placement === "sticky" && !(threshold && count >= threshold)) continue;
  personalise(banner, count);
}
