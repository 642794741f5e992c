"""flowmon: migration and displacement monitoring for IOM Sudan."""

__version__ = "0.1.0"
