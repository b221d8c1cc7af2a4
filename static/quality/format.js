// Shared by the library and the player: seconds as the reviewer reads them, the player's URL.
import { t } from "../lib/i18n.js";

export function seconds(value) {
  if (value === null || value === undefined) return "";
  return t("quality.seconds", { s: value < 10 ? Math.round(value * 10) / 10 : Math.round(value) });
}

export function playerHref(callId) {
  return "/quality/recordings/" + encodeURIComponent(callId);
}
