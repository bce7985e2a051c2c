"""Learning from incidents: response metrics, postmortems, drills and the on-call calendar.

Pure logic (``incidents``, ``metrics``, ``postmortem``, ``calendar``, ``records``) is kept
apart from the modules that talk to PagerDuty, Prometheus or the disk (``pagerduty_api``,
``availability``, ``drill``), so the logic is tested with plain data.
"""
