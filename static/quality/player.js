// Entry point of the player page (quality_player.html renders <hl-recording-player>).
import "./hl-recording-player/hl-recording-player.js";
