"""Where conversations are kept: Rasa's SQL tracker store, configured by one database URL."""
