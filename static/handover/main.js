// Entry point of the handover pages (handover.html renders <hl-handover> + <hl-weekly-summary>
// for agents, <hl-handover-log> for supervisors, schedulers and admins).
import "../components/hl-handover/hl-handover.js";
import "../components/hl-weekly-summary/hl-weekly-summary.js";
import "../components/hl-handover-log/hl-handover-log.js";
