"""Follow-ups: from donor to participant. Actions, invitations, RSVPs, share links and signups.

Plain Python: no Chalice, no boto3. Storage, the mailer and the clock are passed in (deps.py).
"""
