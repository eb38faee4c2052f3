"""Schema revisions, applied in order by `upgrade_to_head`."""
