"""Views: they read models and session mirrors and never touch the network."""
