// Entry point of the rosters page (rosters.html renders <hl-roster-list>).
import "../workforce/hl-roster-list/hl-roster-list.js";
