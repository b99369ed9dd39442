"""Hardware-in-the-loop: simulated devices, the reference platform and tests that run against either."""
