"""Station-room camera: capture, motion detection and snapshots, run in a process of its own."""
