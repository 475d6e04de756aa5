"""Build checks: each module image installs for each platform it lists (:mod:`.images`)."""
