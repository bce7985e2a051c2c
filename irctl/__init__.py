"""irctl: the command line for incident response as code."""
