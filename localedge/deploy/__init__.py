"""Deployment manifests: loading with ``$VAR`` substitution (:mod:`.manifest`), the checks a manifest must
pass (:mod:`.checks`), ``genconfig`` (:mod:`.genconfig`, :mod:`.commands`) and layered deployments
(:mod:`.layering`)."""
