"""HTTP blueprints: parse the request, call a service, map domain errors to the error body."""
