"""The practice's own Python: settings, launcher, channels, NLU guards, console, store, retraining."""
