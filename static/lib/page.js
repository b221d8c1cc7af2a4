// What every page element does first and how it shows one-line messages.
import { h } from "./dom.js";
import { loadMe } from "./session.js";

// Load the signed-in user and her translations; when that fails the element shows why and
// gets null back (then it renders nothing else).
export async function start(el) {
  try {
    return await loadMe();
  } catch (err) {
    el.replaceChildren(h("p", { class: "hl-error", role: "alert", "data-test": "error" }, err.message));
    return null;
  }
}

// Show `text` in a message line, or hide the line when there is none.
export function showLine(line, text) {
  line.textContent = text || "";
  line.hidden = !text;
}

// An error line and a notice line: say() shows a notice, fail() an error, each hiding the other.
export function messageLines(noticeClass = "hl-notice") {
  const error = h("p", { class: "hl-error", role: "alert", "data-test": "error", hidden: true });
  const notice = h("p", { class: noticeClass, role: "status", "data-test": "notice", hidden: true });
  return {
    error,
    notice,
    say(text) {
      showLine(error, "");
      showLine(notice, text);
    },
    fail(text) {
      showLine(notice, "");
      showLine(error, text);
    },
  };
}
