"""Local stand-ins for the outside services of the incident loop (PagerDuty, Slack, ...)."""
