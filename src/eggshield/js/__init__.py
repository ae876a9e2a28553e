"""Parse JavaScript/TypeScript with tree-sitter and evaluate config modules statically."""
