// Entry point of the call log page (calls.html renders <hl-call-log>).
import "./hl-call-log/hl-call-log.js";
