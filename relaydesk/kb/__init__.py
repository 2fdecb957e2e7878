"""Self-service: knowledge base, search, suggestions and deflection, solution templates."""
