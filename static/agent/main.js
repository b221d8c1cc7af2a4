// Entry point of the agent console page (agent.html renders <hl-agent-console>).
import "../components/hl-agent-console/hl-agent-console.js";
