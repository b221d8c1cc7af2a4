// Entry point of the recording library page (quality_library.html renders <hl-recording-library>).
import "./hl-recording-library/hl-recording-library.js";
