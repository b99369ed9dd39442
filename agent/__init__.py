"""das-agent: the daemon, configuration, statistics, alarms, CLI and status page of the 数采仪."""

__version__ = "0.1.0"
