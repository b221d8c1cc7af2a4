// Agent states as the server names them (console/states.py, AgentState); the browser
// compares against these instead of bare strings. tests/test_states.py keeps both equal.
export const AgentState = Object.freeze({
  AVAILABLE: "available",
  NOT_READY: "not_ready",
  RINGING: "ringing",
  ON_CALL: "on_call",
  WRAP_UP: "wrap_up",
  OFFLINE: "offline",
});

// Set by the call flow; an agent cannot pick another state while in one of these.
export const BUSY_STATES = Object.freeze([AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP]);
