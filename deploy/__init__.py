"""Kubernetes desired state for the status page and the incident-manager toolbox.

Pure builders: typed org config + deploy settings in, plain manifest dicts out. No pulumi
import here; `components/statuspage.py` and `components/toolbox.py` translate these dicts.
"""
