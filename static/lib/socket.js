// The live link: Socket.IO on the same origin with the session cookie.
// Snapshot on every (re)connect, deltas after; the page never replays history.
import { io } from "../vendor/socket.io-client-4.8.4/socket.io.esm.min.js";
import { t } from "./i18n.js";

const ACK_TIMEOUT_MS = 8000;

export class LiveLink extends EventTarget {
  constructor({ onEvent, onSnapshot, onStatus }) {
    super();
    this.onEvent = onEvent;
    this.onSnapshot = onSnapshot;
    this.onStatus = onStatus;
    this.socket = null;
  }

  connect(events) {
    const socket = io({ path: "/socket.io", withCredentials: true, reconnectionDelayMax: 5000 });
    this.socket = socket;
    socket.on("connect", () => {
      this.onStatus?.("connected");
      // The server pushes a snapshot on connect; asking again through the ack covers a
      // push lost in a reconnect race. Applying a snapshot twice is harmless.
      this.request("snapshot", {}).then((snap) => this.onSnapshot?.(snap), () => {});
    });
    socket.on("disconnect", (reason) => {
      this.onStatus?.("disconnected", reason);
      // A server-side disconnect (login revoked) is not retried by socket.io; check the session.
      if (reason === "io server disconnect") fetch("/api/v1/me").then((r) => r.status === 401 && location.assign("/login"));
    });
    socket.on("connect_error", () => this.onStatus?.("disconnected"));
    socket.on("snapshot", (snap) => this.onSnapshot?.(snap));
    for (const name of events) socket.on(name, (data) => this.onEvent?.(name, data));
    return this;
  }

  // emit with an ack, as a Promise: resolves with the ack, rejects with a localized Error.
  request(name, payload) {
    return new Promise((resolve, reject) => {
      if (!this.socket?.connected) {
        reject(Object.assign(new Error(t("console.offline_link")), { id: "not-connected" }));
        return;
      }
      this.socket.timeout(ACK_TIMEOUT_MS).emit(name, payload, (err, ack) => {
        if (err) reject(Object.assign(new Error(t("console.no_answer")), { id: "timeout" }));
        else if (!ack || ack.ok === false)
          reject(Object.assign(new Error(ack?.message || t("console.no_answer")), { id: ack?.error || "unknown" }));
        else resolve(ack);
      });
    });
  }
}
