"""The fleet simulator: quadcopters, fixed wings, UGVs and spindle machines with consistent physics,
failures injected from scenario files, ground truth, and real-world stream imperfections.

    from sim import SimConfig, run, generate, open_sink
    report = run(SimConfig(vehicles=50, duration_s=3600, seed=7), open_sink("parquet:out/"))

CLI: `aegis sim --help`.
"""

from sim.check import dead_letter_reason
from sim.commands import KafkaCommandReader, ListCommands
from sim.fleet import Fleet
from sim.report import SimReport
from sim.runner import Generation, SimConfig, Simulation, generate, run
from sim.scenario import Imperfections, Scenario, ScenarioError, load_scenario, parse_scenario
from sim.sinks import JsonlSink, KafkaSink, MemorySink, ParquetSink, SinkError, open_sink

__all__ = [
    "Fleet", "Generation", "Imperfections", "JsonlSink", "KafkaCommandReader", "KafkaSink", "ListCommands",
    "MemorySink", "ParquetSink", "Scenario", "ScenarioError", "SimConfig", "SimReport", "Simulation",
    "SinkError", "dead_letter_reason", "generate", "load_scenario", "open_sink", "parse_scenario", "run",
]
