"""Pulumi components: thin translations of the desired state built by the pure modules."""
