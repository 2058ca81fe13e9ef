"""The console's session layer: network clients, mirrors and buffers. No Qt here."""
