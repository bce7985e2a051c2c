"""The public status page service: live component status, synthetic checks, incidents
opened by Alertmanager, a Statuspage v2 compatible API and a static copy on S3."""
