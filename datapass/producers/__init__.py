"""The producer portal: what a definition's developers see of its authorizations and
credentials (never a secret), as pages and as JSON."""
