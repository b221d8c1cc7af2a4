// Entry point of the supervisor's live page (supervision.html renders <hl-supervision>).
import "./hl-supervision/hl-supervision.js";
