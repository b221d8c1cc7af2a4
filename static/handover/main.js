// Entry point of the handover pages (handover.html renders <hl-handover> + <hl-weekly-summary>
// for agents, <hl-handover-log> for supervisors, schedulers and admins).
import "./hl-handover/hl-handover.js";
import "./hl-weekly-summary/hl-weekly-summary.js";
import "./hl-handover-log/hl-handover-log.js";
