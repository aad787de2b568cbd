"""Staff: keys, roles and who may do what."""
