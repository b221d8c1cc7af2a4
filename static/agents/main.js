// Entry point of the agent console page (agent.html renders <hl-agent-console>).
import "./hl-agent-console/hl-agent-console.js";
