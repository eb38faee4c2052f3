"""HTML and JSON reports people look at."""
