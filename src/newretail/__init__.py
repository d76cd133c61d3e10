"""NewRetail: one business across online shops and offline stores."""

__version__ = "0.1.0"
