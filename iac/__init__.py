"""The Pulumi program run offline: the recording mock engine (`iac.plan`) and Pulumi's secret
wire format (`iac.redaction`). Below the CLI, so `deploy/`, `irctl` and the sandbox share it."""
