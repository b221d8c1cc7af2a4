// The translation table comes from /api/v1/me (console/core/locale/*.po on the server, in
// the user's language); t() falls back to the key so a missing string is visible, not blank.
let table = {};
let language = document.documentElement.lang || "zh-CN";

export function setTable(messages, lang) {
  table = messages || {};
  if (lang) language = lang;
}

export function lang() {
  return language;
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(table, key);
}

export function t(key, params) {
  const text = has(key) ? table[key] : key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}
