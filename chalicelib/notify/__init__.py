"""Talking to people: SES for email, SNS signature checks for SES's bounce and complaint feedback."""
