// Entry point of one roster (roster.html renders <hl-roster-grid>).
import "./hl-roster-grid/hl-roster-grid.js";
