"""herokupg: Heroku Postgres operations as code, and a local Heroku API sandbox."""

__version__ = "0.1.0"
