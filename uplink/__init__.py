"""Uplink: the HJ 212 codec (pure), platform sessions and MQTT publishing."""
