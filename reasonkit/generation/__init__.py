"""The generate stage family: ``stage.py`` (the stage), ``samples.py`` (problems → sample records,
and the sampler values that decide their text), ``sharding.py`` (parts, shards, local shard
processes). The engines it drives live in ``reasonkit.engines``."""
