"""Local emulator of the Heroku Platform API and Data API (see herokupg_sandbox.server)."""
