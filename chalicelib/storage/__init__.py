"""DynamoDB storage: PynamoDB models and the repositories that speak the domain's language."""
