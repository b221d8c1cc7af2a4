// JSON over fetch with the CSRF header; failures throw an ApiError carrying the
// server's localized message (or a localized network message).
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(message, { id = "network", status = 0, detail = null } = {}) {
    super(message);
    this.id = id;
    this.status = status;
    this.detail = detail;
  }
}

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(t("common.network_error"));
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401) {
      // The session ended (logout elsewhere, expiry): go back to the login page.
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname));
    }
    throw new ApiError(data?.message || t("common.server_error", { status: res.status }), {
      id: data?.error || "http-" + res.status,
      status: res.status,
      detail: data,
    });
  }
  return data;
}

export const getJSON = (path, opts) => api(path, { ...opts, method: "GET" });
export const postJSON = (path, body) => api(path, { method: "POST", body });
export const putJSON = (path, body) => api(path, { method: "PUT", body });
