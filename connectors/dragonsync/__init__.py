"""DragonSync (WarDragon) kits: poll their HTTP API into Kafka, emulate them, normalise their records.

collect:   kits.yaml -> poller.Poller -> aegis.dragonsync.{drones,signals,status} (envelope.py)
normalise: normalize.py (pure; wrapped as Flink UDTFs by jobs/dragonsync.py) -> drones, signals,
           system_health, kits (schema.sql)
emulate:   world.py (what a kit sees) + emulator.py (its HTTP API, faults, a ledger of what it served)
"""
