"""The transactional outbox: effects decided in a DynamoDB transaction, delivered after it."""
