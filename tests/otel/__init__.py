"""OpenTelemetry tracing tests."""
