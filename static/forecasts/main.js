// Entry point of the forecast page (forecast.html renders <hl-forecast>).
import "./hl-forecast/hl-forecast.js";
