"""Internal helpers shared by the skquant estimators."""
