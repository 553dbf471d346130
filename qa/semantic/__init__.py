"""The optional semantic stage: sentence vectors that score candidates by meaning."""
