// Entry point of a call's detail page (call.html renders <hl-call-detail>).
import "./hl-call-detail/hl-call-detail.js";
