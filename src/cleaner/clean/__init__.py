"""Cleaning one page: extraction, the line rules, learned boilerplate, language."""
