"""`custom-scheduler run`: the in-cluster controller around the scheduling engine (see runner.py)."""
