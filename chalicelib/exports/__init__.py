"""Exports for finance: contribution CSVs and FEC Schedule A files, built by streaming the ledger.

Plain Python: storage, S3 and the queue are passed in (see `service.py` and `storage/exports.py`).
"""
