// Entry point of the forecast page (forecast.html renders <hl-forecast>).
import "../components/hl-forecast/hl-forecast.js";
