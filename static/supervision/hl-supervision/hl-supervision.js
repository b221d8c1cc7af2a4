// The supervisor's live page: owns the Board (snapshot, then deltas) and the live link, and
// hands both to the wallboard and the agent grid. On every (re)connect it asks for a fresh
// snapshot; when the interval (or the shift day) is over it asks again. Keys: F full screen
// (wall TV), 1 2 3 the period, / the agent search, Esc leaves full screen.
import { h, isTyping } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { start } from "../../lib/page.js";
import { LiveLink } from "../../lib/socket.js";
import { ServerClock } from "../../lib/time.js";
import { Board } from "../board.js";
import "../hl-agent-grid/hl-agent-grid.js";
import { PERIODS } from "../hl-wallboard/hl-wallboard.js";

const EVENTS = ["agent_state_changed", "agent_clocked", "call_arrived", "call_answered", "call_ended", "call_dialling", "supervision_calls"];
const PRUNE_EVERY_S = 10;

export class HlSupervision extends HTMLElement {
  board = new Board();
  #link = null;
  #timer = null;
  #frame = 0;
  #asking = false;
  #held = [];
  #lastPrune = 0;
  #els = null;

  async connectedCallback() {
    if (this.#els) return;
    if (!(await start(this))) return;
    const wallboard = h("hl-wallboard", { "data-test": "wallboard" });
    const grid = h("hl-agent-grid", { class: "hl-panel", "data-test": "agent-grid-panel" });
    const error = h("p", { class: "hl-error", role: "alert", "data-test": "error", hidden: true });
    wallboard.board = this.board;
    grid.board = this.board;
    this.#els = { wallboard, grid, error };
    this.replaceChildren(error, wallboard, grid);
    this.period = sessionStorage.getItem("hl-sup-period") || "day";
    wallboard.period = PERIODS.includes(this.period) ? this.period : "day";
    this.addEventListener("hl-period", (e) => this.#setPeriod(e.detail.period));
    this.addEventListener("hl-wall", () => this.#toggleWall());
    document.addEventListener("keydown", (e) => this.#onKey(e));
    document.addEventListener("fullscreenchange", () => {
      if (!document.fullscreenElement && this.dataset.wall === "on") this.#setWall(false, false);
    });
    this.#link = new LiveLink({
      onEvent: (name, data) => this.#onEvent(name, data),
      onStatus: (status) => {
        wallboard.setLink(status);
        if (status === "connected") this.#askSnapshot();
      },
    }).connect(EVENTS);
    this.#timer = setInterval(() => this.#tick(), 1000);
  }

  disconnectedCallback() {
    clearInterval(this.#timer);
    this.#link?.socket?.disconnect();
  }

  async #askSnapshot() {
    if (this.#asking) return;
    this.#asking = true;
    this.#held = [];
    try {
      const ack = await this.#link.request("supervision_snapshot", {});
      const snap = ack.snapshot;
      ServerClock.sample(snap.at);
      this.board.load(snap);
      this.#els.error.hidden = true;
      this.#els.wallboard.rebuild();
      this.#els.grid.rebuild();
      this.dataset.loaded = "true";
      this.#draw();
    } catch (err) {
      this.#els.error.textContent = err.message;
      this.#els.error.hidden = false;
    } finally {
      this.#asking = false;
      const held = this.#held;
      this.#held = [];
      for (const [name, data] of held) this.#onEvent(name, data);
    }
  }

  #onEvent(name, data) {
    const board = this.board;
    // While a snapshot is on its way the events wait, then apply on top of it (each applies
    // only what the snapshot does not hold yet).
    if (this.#asking) {
      this.#held.push([name, data]);
      return;
    }
    if (!board.loaded) return;
    const grid = this.#els.grid;
    switch (name) {
      case "agent_state_changed":
        ServerClock.sample(data.since);
        if (board.agentState(data)) grid.updateAgent(data.agent_id);
        else this.#askSnapshot(); // an agent the page does not know yet
        break;
      case "agent_clocked":
        if (board.clocked(data)) grid.updateAgent(data.agent_id);
        break;
      case "call_arrived":
        ServerClock.sample(data.at);
        board.arrived(data);
        break;
      case "call_answered": {
        const agentId = board.answered(data);
        if (agentId !== null) grid.updateAgent(agentId);
        break;
      }
      case "call_ended":
        board.ended(data, ServerClock.now());
        break;
      case "call_dialling":
        board.dialling(data);
        break;
      case "supervision_calls":
        for (const agentId of board.facts(data.calls)) grid.updateAgent(agentId);
        grid.updateCalls(data.calls.map((c) => c.id));
        break;
      default:
        return;
    }
    this.#soon();
  }

  // Many events in one frame are one redraw of the wallboard.
  #soon() {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#draw();
    });
  }

  #draw() {
    this.#els.wallboard.update(ServerClock.now());
  }

  #tick() {
    if (!this.board.loaded) return;
    const now = ServerClock.now();
    if (this.board.stale(now)) this.#askSnapshot();
    if (now - this.#lastPrune >= PRUNE_EVERY_S) {
      this.#lastPrune = now;
      this.board.prune(now);
    }
    this.#els.wallboard.update(now);
    if (this.dataset.wall !== "on") this.#els.grid.tick(now);
  }

  #setPeriod(period) {
    if (!PERIODS.includes(period)) return;
    this.period = period;
    sessionStorage.setItem("hl-sup-period", period);
    this.#els.wallboard.period = period;
    this.#draw();
  }

  #toggleWall() {
    this.#setWall(this.dataset.wall !== "on", true);
  }

  // Full screen for a wall TV: the wallboard alone, in large type. The browser's own full
  // screen is asked for too; the page works the same where it is refused.
  #setWall(on, askBrowser) {
    this.dataset.wall = on ? "on" : "off";
    document.body.classList.toggle("hl-wall", on);
    this.#els.wallboard.wall = on;
    this.#els.grid.hidden = on;
    if (askBrowser) {
      if (on && !document.fullscreenElement) document.documentElement.requestFullscreen?.().catch(() => {});
      if (!on && document.fullscreenElement) document.exitFullscreen?.().catch(() => {});
    }
    this.#draw();
    if (!on) this.#els.grid.tick(ServerClock.now());
  }

  #onKey(e) {
    if (e.ctrlKey || e.altKey || e.metaKey || isTyping(e.target)) {
      if (e.key === "Escape" && e.target === this.#els.grid.querySelector("input")) e.target.blur();
      return;
    }
    if (e.key === "f" || e.key === "F") {
      e.preventDefault();
      this.#toggleWall();
    } else if (e.key === "Escape" && this.dataset.wall === "on") {
      this.#setWall(false, true);
    } else if (["1", "2", "3"].includes(e.key)) {
      this.#setPeriod(PERIODS[Number(e.key) - 1]);
    } else if (e.key === "/") {
      e.preventDefault();
      if (this.dataset.wall === "on") this.#setWall(false, true);
      this.#els.grid.focusSearch();
    }
  }
}

customElements.define("hl-supervision", HlSupervision);
