// Who is signed in, and the translation table for her language: every page starts here.
import { getJSON } from "./api.js";
import { setTable } from "./i18n.js";
import { setTimeZone } from "./time.js";

let pending = null;

export function loadMe() {
  pending ??= getJSON("/api/v1/me").then((me) => {
    setTable(me.i18n, me.user?.language);
    // The centre's zone when the server tells it; otherwise the browser's own.
    setTimeZone(me.timezone);
    return me;
  });
  return pending;
}
