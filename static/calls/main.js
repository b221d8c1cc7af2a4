// Entry point of the call log page (calls.html renders <hl-call-log>).
import "../components/hl-call-log/hl-call-log.js";
