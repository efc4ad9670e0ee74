"""The Spark engine: portfolios decided as Spark DataFrames (the ``spark`` extra).

``collectrules.spark.decide(cases_df, signals_df, events_df, policy=…, as_of=…)``
compiles the policy's conditions to Spark Column expressions (native JVM evaluation,
no Python UDF) and returns a :class:`SparkResult` whose ``decisions`` have the compact
decision table's columns. See docs/howto-spark.md.
"""

from __future__ import annotations

from collectrules.spark.decide import COMPACT_SPARK_SCHEMA, SparkResult, decide

__all__ = ["COMPACT_SPARK_SCHEMA", "SparkResult", "decide"]
