// A reviewer's saved filter sets: pick one (the library applies it), save the filters in use
// under a name, delete the one picked. The library owns the filters: it sets `current` (the
// filters applied, as saved sets store them) and hears `saved-filter-picked`.
import { api, getJSON, postJSON } from "../../lib/api.js";
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { messageLines } from "../../lib/page.js";

const URL = "/api/v1/quality/saved-filters";

export class HlSavedFilters extends HTMLElement {
  state = { items: [], picked: "" };
  #current = {};
  #els = null;

  get current() {
    return this.#current;
  }

  // The filters the library applies now: a set picked before stays picked only if they are its.
  set current(filters) {
    this.#current = filters || {};
    const found = this.state.items.find((f) => String(f.id) === this.state.picked);
    if (found && same(found.filters, this.#current)) return;
    this.state.picked = "";
    if (this.#els) this.#update();
  }

  connectedCallback() {
    if (this.#els) return;
    this.#render();
    this.#load();
  }

  async #load(pick = this.state.picked) {
    try {
      this.state.items = await getJSON(URL);
      this.state.picked = this.state.items.some((f) => String(f.id) === String(pick)) ? String(pick) : "";
      this.#update();
    } catch (err) {
      this.#els.lines.fail(err.message);
    }
  }

  #pick(id) {
    this.state.picked = id;
    this.#update();
    const found = this.state.items.find((f) => String(f.id) === id);
    if (found) signal(this, "saved-filter-picked", { name: found.name, filters: found.filters });
  }

  async #save() {
    const name = this.#els.name.value.trim();
    this.#els.save.disabled = true;
    try {
      const saved = await postJSON(URL, { name, filters: this.#current });
      this.#els.name.value = "";
      this.#els.lines.say(t("quality.saved.saved", { name: saved.name }));
      await this.#load(saved.id);
    } catch (err) {
      this.#els.lines.fail(err.message);
    } finally {
      this.#els.save.disabled = false;
    }
  }

  async #delete() {
    const found = this.state.items.find((f) => String(f.id) === this.state.picked);
    if (!found) return;
    try {
      await api(`${URL}/${found.id}`, { method: "DELETE" });
      this.#els.lines.say(t("quality.saved.deleted", { name: found.name }));
      await this.#load("");
    } catch (err) {
      this.#els.lines.fail(err.message);
    }
  }

  #render() {
    const els = (this.#els = {});
    els.lines = messageLines();
    els.select = h("select", { "data-test": "saved-filters", "aria-label": t("quality.saved.label"),
      onchange: (e) => this.#pick(e.target.value) });
    els.remove = h("button", { type: "button", class: "hl-btn hl-btn-quiet", "data-test": "saved-delete", onclick: () => this.#delete() },
      t("quality.saved.delete"));
    els.name = h("input", { type: "text", maxlength: 64, required: true, size: 18, "data-test": "saved-name",
      placeholder: t("quality.saved.name_placeholder"), "aria-label": t("quality.saved.name") });
    els.save = h("button", { type: "submit", class: "hl-btn", "data-test": "saved-save" }, t("quality.saved.save"));
    this.replaceChildren(
      h("div", { class: "hl-saved-bar" },
        h("label", { class: "hl-inline" }, t("quality.saved.label"), els.select),
        els.remove,
        h("form", { class: "hl-saved-form", "data-test": "saved-form", onsubmit: (e) => { e.preventDefault(); this.#save(); } },
          els.name, els.save)),
      els.lines.error,
      els.lines.notice);
    this.#update();
  }

  #update() {
    const els = this.#els;
    const s = this.state;
    els.select.replaceChildren(
      h("option", { value: "" }, s.items.length ? t("quality.saved.pick") : t("quality.saved.none")),
      ...s.items.map((f) => h("option", { value: f.id, selected: String(f.id) === s.picked }, f.name)));
    els.select.value = s.picked;
    els.select.disabled = !s.items.length;
    els.remove.disabled = !s.picked;
  }
}

function same(a, b) {
  const norm = (o) => JSON.stringify(Object.keys(o || {}).sort().map((k) => [k, o[k]]));
  return norm(a) === norm(b);
}

customElements.define("hl-saved-filters", HlSavedFilters);
