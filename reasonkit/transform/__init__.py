"""The transform stage family: an engine prompted per problem or per sample, its reply parsed into
one structured field (difficulty labels, rewritten solutions, paraphrases).

``config.py`` (the ``transform`` group's schema), ``parsers.py`` (reply → field, one registry
entry per ``transform.parser.name``), ``stage.py`` (the resumable stage and where it sits in the
pipeline)."""
