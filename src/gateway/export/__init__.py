"""Sending finished jobs\x27 results elsewhere: MLflow (gateway.export.mlflow)."""
