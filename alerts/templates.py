"""Notification templates (Go templates) shipped as `incident-response.tmpl` in the Secret.

Alertmanager loads every `*.tmpl` under /etc/alertmanager/config/; receivers refer to these
by name. Text says what fires, where, how many, and links the runbook. Pages are grouped by
service, so a page's title lists every alert name in it when they differ.
"""

TEMPLATE = """\
{{ define "ir.title" -}}
[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] \
{{ if .CommonLabels.alertname }}{{ .CommonLabels.alertname }}{{ else }}\
{{ range $i, $a := .Alerts }}{{ if $i }}, {{ end }}{{ $a.Labels.alertname }}{{ end }}{{ end }} \
({{ .CommonLabels.severity }}) in {{ .CommonLabels.service }}
{{- end }}

{{ define "ir.runbook" -}}
{{ if .CommonAnnotations.runbook_url }}{{ .CommonAnnotations.runbook_url }}\
{{ else }}{{ .ExternalURL }}{{ end }}
{{- end }}

{{ define "ir.pagerduty.description" -}}
{{ if .CommonAnnotations.summary }}{{ .CommonAnnotations.summary }}\
{{ else }}{{ template "ir.title" . }}{{ end }}
{{- end }}

{{ define "ir.slack.text" -}}
{{ range .Alerts -}}
*{{ .Annotations.summary }}*{{ if eq .Status "resolved" }} (resolved){{ end }}
{{ .Annotations.description }}
Runbook: {{ .Annotations.runbook_url }}
{{ end }}
{{- end }}
"""
