"""The admin and gateway-specific resources, one module each."""
