// Entry point of the leave and swap approvals page (requests.html renders <hl-requests>).
import "./hl-requests/hl-requests.js";
