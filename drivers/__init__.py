"""Field drivers: links, Modbus, DL/T 645, serial text protocols and device profiles.

The rest of the agent sees our own small interface: link owners (`drivers.link`), devices and readers
(`drivers.reader`), and neutral errors (`drivers.errors`). No third-party protocol library is on the polling
path: Modbus RTU/MBAP framing is our own (`drivers/modbus/frames.py`; docs/drivers.md, "Why our own
framing"), pyserial and asyncio carry the bytes. pymodbus is the independent peer of the interop tests and the
baseline of the benchmark, so it is a test dependency only.
"""
