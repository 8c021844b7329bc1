"""The simulator demo: a short motion executed by the real control loop in MuJoCo."""
