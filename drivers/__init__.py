"""Field drivers: links, Modbus, DL/T 645, serial text protocols and device profiles.

pymodbus is imported only below this package; the rest of the agent sees our own small interface.
"""
