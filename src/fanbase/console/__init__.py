"""The operator console (``/console/...``): staff pages over the domains' service functions."""
