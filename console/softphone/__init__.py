"""Browser audio: the agent's page talks to the caller as 16-bit PCM over a WebSocket."""
