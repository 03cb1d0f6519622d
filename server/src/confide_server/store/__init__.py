"""Storage: the schema, the engine, the group-commit writer and the queries of each concept."""
