"""The filing domain: what a committee reports to the FEC, and the files it reports in.

Plain Python (no Chalice, boto3 or PynamoDB): the committee and its transactions come in as the
dataclasses of `model`; out come the filing calendar (`calendar`), the summary lines of Form 3
and 3X (`summary`), Schedule A and B rows (`schedules`, `records`), the header and form records
(`forms`), 48-hour notices (`notices`), their validation against the FEC's own JSON Schemas
(`validation`, `schemas/`) and the `.fec` and JSON Lines files (`fec`). `report.build_report`
puts them together. See docs/reports.md.
"""
