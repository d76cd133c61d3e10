"""A member's rights over their personal information: the export (right of access and copy),
audited in `member_data_request`."""
