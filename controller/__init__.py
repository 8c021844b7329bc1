"""The control process: 50 Hz loop, safety supervisor, controllers and robot backends."""
