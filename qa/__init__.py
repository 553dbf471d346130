"""qa: answers questions with cited sentences from a corpus of documents."""

__version__ = "0.1.0"
