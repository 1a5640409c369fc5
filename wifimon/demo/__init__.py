"""A simulated fleet of titik for the demo and the daemon-level tests."""
